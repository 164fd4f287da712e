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
  }
}
