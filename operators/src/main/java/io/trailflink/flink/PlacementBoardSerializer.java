package io.trailflink.flink;

import io.trailflink.schema.PlacementBoardState;
import io.trailflink.serving.PlacementBoard;

/**
 * State serializer of the placement operator's {@link PlacementBoard}, as a {@link PlacementBoardState} record. A
 * restored board places by the operator's current {@code --placement} (set on every access).
 */
public final class PlacementBoardSerializer extends AvroStateSerializer<PlacementBoard, PlacementBoardState> {
  private static final long serialVersionUID = 1L;

  @Override
  protected Class<PlacementBoardState> recordClass() {
    return PlacementBoardState.class;
  }

  @Override
  protected PlacementBoardState toRecord(PlacementBoard board) {
    return board.toState();
  }

  @Override
  protected PlacementBoard fromRecord(PlacementBoardState record) {
    return PlacementBoard.restore(record, null);
  }
}
