package io.trailflink.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PredictorCardTest {
  @Test
  void retrainingKeepsTheSectionsItDoesNotWrite() {
    String card = """
        # TRAIL length predictor for m

        Intro.

        ## Data

        old data

        ## Layer sweep (3 epochs on one training sample in 2)

        | 0 | 1.0 |

        ## Result

        old result

        ## Held-out evaluation

        | method | MAE |
        | refined | 77.0 |

        ## Notes

        by hand
        """;
    assertEquals("""
        ## Held-out evaluation

        | method | MAE |
        | refined | 77.0 |

        ## Notes

        by hand
        """, TrainPredictorCommand.handWrittenSections(card));
  }

  @Test
  void aGeneratedCardAloneKeepsNothing() {
    assertEquals("", TrainPredictorCommand.handWrittenSections("# T\n\nIntro.\n\n## Data\n\nx\n\n## Result\n\ny\n"));
  }
}
