package io.trailflink.cli;

import io.trailflink.engine.model.CheckpointException;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./trail}: one subcommand per task; bad flags and files end in one line and exit code 2. */
@Command(
    name = "trail",
    mixinStandardHelpOptions = true,
    scope = CommandLine.ScopeType.INHERIT, // --help and --version on every subcommand too
    version = "trail-flink 0.1.0",
    description = "TRAIL LLM scheduling on Apache Flink: engine, model training and tools.",
    subcommands = {
        // the serving job
        DemoCommand.class, ServeCommand.class, SavepointCommand.class, KafkaCommand.class, ProduceCommand.class, ConsumeCommand.class,
        // the engine and its model
        GenerateCommand.class, BenchEngineCommand.class, MakeCheckpointCommand.class, BatchCommand.class, TrainModelCommand.class, EvalModelCommand.class,
        // the TRAIL predictor
        CollectStatesCommand.class, TrainPredictorCommand.class, TrainPromptPriorCommand.class, EvalPredictorCommand.class, BenchPredictorCommand.class,
        // scheduling
        SimulateCommand.class, BenchCommand.class, BenchLoopCommand.class, FuzzCommand.class, SqlCommand.class, TheoryCheckCommand.class, MakeWorkloadCommand.class, BenchSchedulerCommand.class,
        CommandLine.HelpCommand.class})
public final class TrailCli implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /** The project root (the launcher sets {@code trail.home}); defaults resolve against it. */
  static Path home() {
    return Path.of(System.getProperty("trail.home", "."));
  }

  static Path defaultModel() {
    return home().resolve("models").resolve("trail-tiny");
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  static int execute(String... args) {
    CommandLine cli = new CommandLine(new TrailCli());
    cli.setParameterExceptionHandler((ex, a) -> {
      System.err.println("trail: " + ex.getMessage());
      return 2;
    });
    cli.setExecutionExceptionHandler((ex, cmd, parsed) -> {
      if (ex instanceof CheckpointException || ex instanceof IllegalArgumentException
          || ex instanceof java.io.IOException || ex instanceof UsageException
          || ex instanceof io.trailflink.sim.WorkloadException) {
        System.err.println("trail " + cmd.getCommandName() + ": " + ex.getMessage());
        return 2;
      }
      throw ex;
    });
    return cli.execute(args);
  }

  /** A user error worth one line, not a stack trace. */
  static final class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }
}
