package io.trailflink.serving.records;

import java.io.IOException;

/** Bytes that are not a valid record of the expected schema; the message is the reason, in words, for a dead letter. */
public final class MalformedRecordException extends IOException {
  private static final long serialVersionUID = 1L;

  public MalformedRecordException(String reason) {
    super(reason);
  }
}
