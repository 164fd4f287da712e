package io.trailflink.scheduler;

import java.util.HashMap;
import java.util.Map;

/**
 * Weighted fair shares of decode tokens between tenants: a virtual token counter per tenant (Sheng et al., "Fairness
 * in Serving Large Language Models", OSDI 2024). Every token a tenant's request generates adds {@code 1 / weight}
 * to its counter; the scheduler serves the tenant with the lowest counter next. A tenant that comes back after
 * having nothing live is lifted to the lowest counter among the tenants that are live, so idle time does not bank
 * credit it could later spend starving the others. Unknown tenants get the default weight.
 */
public final class TenantShares implements java.io.Serializable {
  private static final long serialVersionUID = 1L;

  private final Map<String, Double> weights;
  private final double defaultWeight;
  private final Map<String, Double> counters = new HashMap<>(); // virtual tokens: generated tokens / weight
  private final Map<String, Integer> live = new HashMap<>(); // live requests per tenant
  private long unknownTenantRequests; // requests of tenants without a weight of their own, when weights are given

  /**
   * @param weights per-tenant weights (> 0); a tenant with weight 2 gets twice the tokens of one with weight 1
   * @param defaultWeight the weight of every tenant not in {@code weights} (> 0)
   */
  public TenantShares(Map<String, Double> weights, double defaultWeight) {
    if (!(defaultWeight > 0) || Double.isInfinite(defaultWeight)) {
      throw new IllegalArgumentException("default tenant weight must be > 0, got " + defaultWeight);
    }
    weights.forEach((t, w) -> {
      if (!(w > 0) || Double.isInfinite(w)) {
        throw new IllegalArgumentException("tenant '" + t + "': weight must be > 0, got " + w);
      }
    });
    this.weights = Map.copyOf(weights);
    this.defaultWeight = defaultWeight;
  }

  /** Equal shares for every tenant. */
  public static TenantShares equal() {
    return new TenantShares(Map.of(), 1);
  }

  /** A fresh counter set with the same weights (one per engine). */
  public TenantShares fresh() {
    return new TenantShares(weights, defaultWeight);
  }

  public double weight(String tenant) {
    return weights.getOrDefault(tenant, defaultWeight);
  }

  /** Whether {@code tenant} has a weight of its own (others get the default). */
  public boolean known(String tenant) {
    return weights.containsKey(tenant);
  }

  /** Requests of tenants that have no weight of their own (they get the default), when weights are given. */
  public long unknownTenantRequests() {
    return unknownTenantRequests;
  }

  /** The tenant's virtual token counter. */
  public double counter(String tenant) {
    return counters.getOrDefault(tenant, 0.0);
  }

  /** A request of {@code tenant} became live; a tenant with nothing live before is lifted to the live minimum. */
  void arrived(String tenant) {
    arrived(tenant, true);
  }

  /**
   * As {@link #arrived(String)}; {@code counted} false for a request moved here from another engine, whose arrival
   * was counted there.
   */
  void arrived(String tenant, boolean counted) {
    if (counted && !weights.isEmpty() && !weights.containsKey(tenant)) {
      unknownTenantRequests++;
    }
    int before = live.getOrDefault(tenant, 0);
    if (before == 0) {
      double floor = Double.POSITIVE_INFINITY;
      for (Map.Entry<String, Integer> e : live.entrySet()) {
        if (e.getValue() > 0) {
          floor = Math.min(floor, counter(e.getKey()));
        }
      }
      if (floor != Double.POSITIVE_INFINITY && counter(tenant) < floor) {
        counters.put(tenant, floor);
      }
    }
    live.put(tenant, before + 1);
  }

  /** Counters a checkpoint kept: each tenant's virtual tokens, and the requests of tenants without a weight. */
  public void restore(Map<String, Double> virtualTokens, long unknownTenantRequests) {
    counters.putAll(virtualTokens);
    this.unknownTenantRequests = unknownTenantRequests;
  }

  /** The tenants' virtual token counters (a copy). */
  public Map<String, Double> counters() {
    return Map.copyOf(counters);
  }

  /** A live request of {@code tenant} restored from a checkpoint: counted live, nothing lifted or charged. */
  void restoredLive(String tenant) {
    live.merge(tenant, 1, Integer::sum);
  }

  /** A request of {@code tenant} ended. */
  void left(String tenant) {
    int n = live.getOrDefault(tenant, 0) - 1;
    if (n <= 0) {
      live.remove(tenant);
    } else {
      live.put(tenant, n);
    }
  }

  /** {@code tokens} were generated for {@code tenant}. */
  void charge(String tenant, int tokens) {
    counters.merge(tenant, tokens / weight(tenant), Double::sum);
  }
}
