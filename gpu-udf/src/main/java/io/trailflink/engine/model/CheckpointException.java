package io.trailflink.engine.model;

/** A checkpoint the engine cannot run; the message names the file or the config field at fault. */
public class CheckpointException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CheckpointException(String message) {
    super(message);
  }

  public CheckpointException(String message, Throwable cause) {
    super(message, cause);
  }
}
