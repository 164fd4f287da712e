package io.trailflink.sim;

/** A workload file that cannot be used; the message names the file (and line). */
public class WorkloadException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public WorkloadException(String message) {
    super(message);
  }
}
