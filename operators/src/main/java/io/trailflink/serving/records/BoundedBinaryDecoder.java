package io.trailflink.serving.records;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.avro.io.Decoder;
import org.apache.avro.util.Utf8;

/**
 * Avro binary decoding of one untrusted record held in a byte array. Avro's own decoder allocates whatever a length
 * prefix claims (a 35-byte record claiming a 1.9 GB string allocates 1.9 GB); this one checks every length and
 * item count before it allocates anything:
 * <ul>
 *   <li>a string or bytes value may not be longer than the bytes left in the record (the hard bound), nor than its
 *       field's configured limit ({@link #fieldLimits}, else {@link #defaultLimitBytes});</li>
 *   <li>an array or map block may not claim more items than there are bytes left;</li>
 *   <li>strings must be valid UTF-8 (Avro would replace bad bytes with U+FFFD, so two different ids could decode to
 *       one string).</li>
 * </ul>
 * Each violation is a {@link MalformedRecordException} whose message names the field ({@link #enterField}) and what
 * was wrong. Not thread-safe; {@link #reset} reuses it for the next record.
 */
final class BoundedBinaryDecoder extends Decoder {
  // -- configuration
  private final Map<String, Integer> fieldLimits; // field path -> most bytes of its string or bytes value
  private final int defaultLimitBytes; // limit of a string or bytes field not in fieldLimits
  private final String typeName; // the record type, for messages

  // -- runtime
  private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
      .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
  private byte[] buf = new byte[0];
  private int pos;
  private String field = ""; // dotted path of the field being read, e.g. sampling.top_p

  BoundedBinaryDecoder(Map<String, Integer> fieldLimits, int defaultLimitBytes, String typeName) {
    this.fieldLimits = Map.copyOf(fieldLimits);
    this.defaultLimitBytes = defaultLimitBytes;
    this.typeName = typeName;
  }

  void reset(byte[] bytes) {
    buf = bytes;
    pos = 0;
    field = "";
  }

  /** Sets the field being read; returns the previous one, to restore with {@link #leaveField}. */
  String enterField(String name) {
    String outer = field;
    field = outer.isEmpty() ? name : outer + "." + name;
    return outer;
  }

  void leaveField(String outer) {
    field = outer;
  }

  String field() {
    return field;
  }

  int remaining() {
    return buf.length - pos;
  }

  boolean isEnd() {
    return pos == buf.length;
  }

  /** Bytes that are not an Avro record of the type at all. */
  private MalformedRecordException malformed(String what) {
    return new MalformedRecordException("not an Avro " + typeName + ": " + where() + what);
  }

  /** A well-formed value the job refuses. */
  private MalformedRecordException invalid(String what) {
    return new MalformedRecordException(where() + what);
  }

  String where() {
    return field.isEmpty() ? "" : "field " + field + ": ";
  }

  private void need(int n) throws MalformedRecordException {
    if (n > remaining()) {
      throw malformed("the record ends " + (n - remaining()) + " byte(s) early (" + buf.length + " bytes in all)");
    }
  }

  /** A length prefix, checked against the bytes left and the field's limit. */
  private int length(String kind) throws IOException {
    long n = readLong();
    if (n < 0) {
      throw malformed("negative " + kind + " length " + n);
    }
    int limit = fieldLimits.getOrDefault(field, defaultLimitBytes);
    if (n > limit) {
      throw invalid(kind + " of " + n + " bytes exceeds the limit of " + limit + " bytes");
    }
    if (n > remaining()) {
      throw malformed(kind + " length claims " + n + " bytes but only " + remaining() + " are left in the record");
    }
    return (int) n;
  }

  /** An array or map block's item count: every item takes at least one byte, so no more items than bytes left. */
  private long blockCount() throws IOException {
    long n = readLong();
    if (n < 0) {
      if (n == Long.MIN_VALUE) {
        throw malformed("a block count of " + n + " is out of range");
      }
      n = -n;
      readLong(); // the block's size in bytes, which only skipping uses
    }
    if (n > remaining()) {
      throw malformed("a block claims " + n + " items but only " + remaining() + " bytes are left in the record");
    }
    return n;
  }

  @Override
  public void readNull() {}

  @Override
  public boolean readBoolean() throws IOException {
    need(1);
    int b = buf[pos++];
    if (b != 0 && b != 1) {
      throw malformed("boolean byte " + b + " is neither 0 nor 1");
    }
    return b == 1;
  }

  @Override
  public int readInt() throws IOException {
    long n = readLong();
    if (n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
      throw malformed("int value " + n + " is out of range");
    }
    return (int) n;
  }

  @Override
  public long readLong() throws IOException {
    long raw = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      need(1);
      int b = buf[pos++] & 0xff;
      raw |= (long) (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return (raw >>> 1) ^ -(raw & 1); // zig-zag
      }
    }
    throw malformed("a variable-length integer runs past 10 bytes");
  }

  @Override
  public float readFloat() throws IOException {
    need(4);
    float f = ByteBuffer.wrap(buf, pos, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getFloat();
    pos += 4;
    return f;
  }

  @Override
  public double readDouble() throws IOException {
    need(8);
    double d = ByteBuffer.wrap(buf, pos, 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getDouble();
    pos += 8;
    return d;
  }

  @Override
  public String readString() throws IOException {
    int n = length("string");
    CharBuffer chars;
    try {
      chars = utf8.reset().decode(ByteBuffer.wrap(buf, pos, n));
    } catch (CharacterCodingException e) {
      throw invalid("not valid UTF-8");
    }
    pos += n;
    return chars.toString();
  }

  @Override
  public Utf8 readString(Utf8 old) throws IOException {
    return new Utf8(readString());
  }

  @Override
  public void skipString() throws IOException {
    pos += length("string");
  }

  @Override
  public ByteBuffer readBytes(ByteBuffer old) throws IOException {
    int n = length("bytes");
    ByteBuffer b = ByteBuffer.wrap(java.util.Arrays.copyOfRange(buf, pos, pos + n));
    pos += n;
    return b;
  }

  @Override
  public void skipBytes() throws IOException {
    pos += length("bytes");
  }

  @Override
  public void readFixed(byte[] bytes, int start, int length) throws IOException {
    need(length);
    System.arraycopy(buf, pos, bytes, start, length);
    pos += length;
  }

  @Override
  public void skipFixed(int length) throws IOException {
    need(length);
    pos += length;
  }

  @Override
  public int readEnum() throws IOException {
    return readInt();
  }

  @Override
  public long readArrayStart() throws IOException {
    return blockCount();
  }

  @Override
  public long arrayNext() throws IOException {
    return blockCount();
  }

  @Override
  public long skipArray() throws IOException {
    return blockCount(); // the caller skips the items one by one
  }

  @Override
  public long readMapStart() throws IOException {
    return blockCount();
  }

  @Override
  public long mapNext() throws IOException {
    return blockCount();
  }

  @Override
  public long skipMap() throws IOException {
    return blockCount();
  }

  @Override
  public int readIndex() throws IOException {
    return readInt();
  }
}
