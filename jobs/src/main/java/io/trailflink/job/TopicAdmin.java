package io.trailflink.job;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;

/** Makes sure the job's four topics exist on an existing Kafka cluster. */
public final class TopicAdmin {
  private TopicAdmin() {}

  /** Creates whichever of the job's topics are missing; returns them. */
  public static List<String> ensure(String bootstrapServers, Topics topics, short replication, int timeoutS)
      throws Exception {
    return missing(bootstrapServers, topics, replication, timeoutS, true);
  }

  /**
   * The job's topics missing on the cluster, created (one partition each, the given replication) when {@code create}.
   *
   * @throws IllegalArgumentException when the cluster cannot be reached within {@code timeoutS}
   */
  public static List<String> missing(String bootstrapServers, Topics topics, short replication, int timeoutS,
      boolean create) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Integer.toString(timeoutS * 1000));
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(timeoutS * 1000));
    try (Admin admin = Admin.create(p)) {
      Set<String> existing;
      try {
        existing = admin.listTopics().names().get(timeoutS, TimeUnit.SECONDS);
      } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
        throw new IllegalArgumentException("cannot reach Kafka at --bootstrap-servers " + bootstrapServers
            + " within " + timeoutS + " s");
      }
      List<NewTopic> missing = new ArrayList<>();
      for (String t : topics.all()) {
        if (!existing.contains(t)) {
          missing.add(new NewTopic(t, 1, replication));
        }
      }
      if (create && !missing.isEmpty()) {
        admin.createTopics(missing).all().get(timeoutS, TimeUnit.SECONDS);
      }
      return missing.stream().map(NewTopic::name).toList();
    }
  }
}
