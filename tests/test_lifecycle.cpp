// Unit lifecycle bookkeeping: born dead, died (with the step first seen dead), revived.
#include <catch2/catch.hpp>

#include "train/lifecycle.hpp"
#include "train/summary.hpp"

using namespace gradflow;

TEST_CASE("units born dead, dying during training and reviving are told apart", "[lifecycle]") {
  // One hidden layer of 4 units: u0 born dead and stays dead, u1 dies at step 10,
  // u2 dies at step 10 and revives at 20, u3 is always alive.
  LifecycleTracker t = make_lifecycle_tracker({4});
  UnitStates s = make_unit_states({4});
  s.dead[0] = {1, 0, 0, 0};
  observe_units(t, s, 0);
  s.dead[0] = {1, 1, 1, 0};
  observe_units(t, s, 10);
  s.dead[0] = {1, 1, 0, 0};
  observe_units(t, s, 20);

  const std::vector<LifecycleRecord> r = lifecycle_records(t);
  REQUIRE(r.size() == 1);
  CHECK(r[0].units == 4);
  CHECK(r[0].born_dead == 1);
  CHECK(r[0].died == 2);
  CHECK(r[0].died_dead_at_end == 1);
  CHECK(r[0].revived == 1);
  CHECK(r[0].dead_at_end == 2);
  CHECK(r[0].first_death_step == 10);
  CHECK(r[0].last_death_step == 10);

  RunSummary summary;
  fill_lifecycle_indicators(summary, r);
  CHECK(summary.units_died_fraction == 0.25);  // u1 only: u0 was dead from the start
  CHECK(summary.units_revived == 1);
}
