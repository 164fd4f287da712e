package io.trailflink.flink;

import io.trailflink.scheduler.placement.Placement;
import io.trailflink.schema.EngineStatus;
import io.trailflink.serving.PlacementBoard;
import io.trailflink.serving.ServingConfig;
import io.trailflink.serving.ValidatedRequest;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

/**
 * The placement operator: validated requests in, each stamped with its engine; engine statuses (read back from the
 * engine-status topic) in on the other side. Both inputs are keyed by one constant ({@link #KEY}): placement is a
 * decision over every engine's load, so one keyed instance holds them all, and its {@link PlacementBoard} is
 * checkpointed keyed state like the schedulers'. The policy lives in the board (plain Java).
 */
public class PlaceRequestFunction extends KeyedCoProcessFunction<Integer, ValidatedRequest, EngineStatus,
    ValidatedRequest> {
  private static final long serialVersionUID = 1L;
  /** The one key both inputs are keyed by. */
  public static final int KEY = 0;

  private final ServingConfig config;
  private final ValueStateDescriptor<PlacementBoard> boardState =
      new ValueStateDescriptor<>("placement-state", new PlacementBoardSerializer());
  private transient ValueState<PlacementBoard> board;
  private transient Placement placement;

  public PlaceRequestFunction(ServingConfig config) {
    this.config = config;
  }

  @Override
  public void open(OpenContext ctx) {
    board = getRuntimeContext().getState(boardState);
    placement = config.newPlacement();
  }

  @Override
  public void processElement1(ValidatedRequest r, Context ctx, Collector<ValidatedRequest> out) throws Exception {
    PlacementBoard b = board();
    out.collect(b.place(r));
    board.update(b);
  }

  @Override
  public void processElement2(EngineStatus s, Context ctx, Collector<ValidatedRequest> out) throws Exception {
    PlacementBoard b = board();
    b.observe(s);
    board.update(b);
  }

  /**
   * The board: fresh when there is none or the restored one was made for other engines; a restored one places by
   * this job's --placement.
   */
  private PlacementBoard board() throws Exception {
    PlacementBoard b = board.value();
    if (b == null || !b.fits(config.engines(), config.maxRunning(), config.kvBlocks())) {
      return new PlacementBoard(placement, config.engines(), config.maxRunning(), config.kvBlocks());
    }
    b.usePlacement(placement);
    return b;
  }

  /** The keyed state holding the board (for tests and state inspection). */
  public ValueStateDescriptor<PlacementBoard> boardStateDescriptor() {
    return boardState;
  }
}
