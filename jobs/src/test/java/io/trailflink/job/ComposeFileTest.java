package io.trailflink.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;
import picocli.CommandLine;

/**
 * docker-compose.yml agrees with the build: the jar it mounts is the one the shade plugin writes, the model it
 * mounts is in the repository, the job's flags parse, and TaskManagers ask for a GPU through Flink's external
 * resource "gpu". (.ci/run also runs {@code docker-compose config} when docker-compose is installed.)
 */
class ComposeFileTest {
  private static final Path ROOT = Path.of("..");

  @SuppressWarnings("unchecked")
  @Test
  void composeFileMatchesTheBuildAndTheJobsFlags() throws Exception {
    Map<String, Object> compose = new Yaml().load(Files.readString(ROOT.resolve("docker-compose.yml")));
    Map<String, Object> services = (Map<String, Object>) compose.get("services");
    assertTrue(services.keySet().containsAll(List.of("kafka", "jobmanager", "taskmanager")), services.keySet().toString());

    Map<String, Object> jm = (Map<String, Object>) services.get("jobmanager");
    List<String> volumes = (List<String>) jm.get("volumes");
    String jar = volumes.stream().filter(v -> v.endsWith(".jar:ro")).findFirst().orElseThrow().split(":")[0];
    assertEquals("./jobs/target/trail-flink-job.jar", jar);
    assertTrue(Files.readString(ROOT.resolve("jobs/pom.xml")).contains("<finalName>trail-flink-job</finalName>"));
    assertTrue(volumes.contains("./models:/opt/trail/models:ro"));
    assertTrue(volumes.contains("./jobs/target/flink-lib:/opt/flink/lib/trail:ro"), "DJL on the framework classpath");

    List<String> command = new ArrayList<>(Arrays.asList(((String) jm.get("command")).split("\\s+")));
    assertEquals("standalone-job", command.remove(0));
    assertEquals("--job-classname", command.remove(0));
    Class<?> main = Class.forName(command.remove(0));
    assertEquals(TrailJob.class, main);
    List<String> args = command.stream().map(a -> a.replaceAll("\\$\\{[A-Z]+:-([^}]*)}", "$1")).toList();
    TrailJob job = new TrailJob();
    CommandLine.ParseResult parsed = new CommandLine(job).parseArgs(args.toArray(String[]::new));
    assertTrue(parsed.unmatched().isEmpty(), parsed.unmatched().toString());
    assertTrue(job.options.exactlyOnce, "the cluster runs with one final response per request across failovers");
    String model = args.get(args.indexOf("--model") + 1).replace("/opt/trail/models", "models");
    assertTrue(Files.isRegularFile(ROOT.resolve(model).resolve("config.json")), model);

    Map<String, Object> tm = (Map<String, Object>) services.get("taskmanager");
    assertEquals("taskmanager", tm.get("command"));
    String props = (String) ((Map<String, Object>) tm.get("environment")).get("FLINK_PROPERTIES");
    assertTrue(props.contains("external-resources: gpu") && props.contains("GPUDriverFactory"), props);
    String gpuRequest = tm.get("deploy").toString();
    assertTrue(gpuRequest.contains("gpu") && gpuRequest.contains("nvidia"), gpuRequest);
    assertEquals(List.of("gpu"), tm.get("profiles"));

    // the cpu profile: the same TaskManager, no GPU reservation and no GPU resource to discover
    Map<String, Object> cpu = (Map<String, Object>) services.get("taskmanager-cpu");
    assertEquals(List.of("cpu"), cpu.get("profiles"));
    assertEquals("taskmanager", cpu.get("command"));
    assertTrue(!cpu.get("deploy").toString().contains("gpu"), cpu.get("deploy").toString());
    String cpuProps = (String) ((Map<String, Object>) cpu.get("environment")).get("FLINK_PROPERTIES");
    assertTrue(!cpuProps.contains("external-resource") && cpuProps.contains("parent-first")
        && cpuProps.contains("execution.checkpointing.dir"), cpuProps);
    assertEquals(((List<String>) tm.get("volumes")), cpu.get("volumes"), "same jar, lib, model and checkpoints");
  }

  /** The thin job jar leaves out exactly what target/flink-lib holds for the cluster's lib/. */
  @Test
  void theJobJarLeavesOutWhatFlinkLibHolds() throws Exception {
    String pom = Files.readString(ROOT.resolve("jobs/pom.xml"));
    String ids = pom.replaceAll("(?s).*<includeArtifactIds>([^<]*)</includeArtifactIds>.*", "$1");
    Map<String, String> groups = Map.of("api", "ai.djl:api", "pytorch-engine", "ai.djl.pytorch:*", "pytorch-jni",
        "ai.djl.pytorch:*", "${pytorch.native.artifact}", "ai.djl.pytorch:*", "tokenizers",
        "ai.djl.huggingface:tokenizers", "gson", "com.google.code.gson:gson", "jna", "net.java.dev.jna:jna",
        "commons-compress", "org.apache.commons:commons-compress");
    for (String id : ids.split(",")) {
      String exclude = groups.get(id.strip());
      assertTrue(exclude != null, "flink-lib holds " + id + ": say which shade exclude covers it");
      assertTrue(pom.contains("<exclude>" + exclude + "</exclude>"), "the job jar must leave out " + id);
    }
  }
}
