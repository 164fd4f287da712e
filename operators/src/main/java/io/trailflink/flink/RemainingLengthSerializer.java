package io.trailflink.flink;

import io.trailflink.predictor.RemainingLength;
import io.trailflink.schema.RemainingLengthState;
import java.util.ArrayList;
import java.util.List;

/** State serializer of the predictor operator's per-request {@link RemainingLength}, as a {@link RemainingLengthState}. */
public final class RemainingLengthSerializer extends AvroStateSerializer<RemainingLength, RemainingLengthState> {
  private static final long serialVersionUID = 1L;

  @Override
  protected Class<RemainingLengthState> recordClass() {
    return RemainingLengthState.class;
  }

  @Override
  protected RemainingLengthState toRecord(RemainingLength r) {
    List<Float> posterior = new ArrayList<>(r.posterior().length);
    for (float p : r.posterior()) {
      posterior.add(p);
    }
    return new RemainingLengthState(posterior, r.refreshedAt(), r.expected());
  }

  @Override
  protected RemainingLength fromRecord(RemainingLengthState s) {
    float[] posterior = new float[s.getPosterior().size()];
    for (int i = 0; i < posterior.length; i++) {
      posterior[i] = s.getPosterior().get(i);
    }
    return new RemainingLength(posterior, s.getRefreshedAt(), s.getExpected());
  }

  @Override
  protected RemainingLength copyLive(RemainingLength r) {
    return r; // immutable
  }
}
