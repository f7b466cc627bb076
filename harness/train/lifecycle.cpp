// Unit lifecycle bookkeeping; see lifecycle.hpp.
#include "train/lifecycle.hpp"

#include "base/errors.hpp"

namespace gradflow {

UnitStates make_unit_states(const std::vector<long>& hidden_widths) {
  UnitStates s;
  for (long w : hidden_widths) s.dead.emplace_back(std::size_t(w), std::uint8_t(0));
  return s;
}

LifecycleTracker make_lifecycle_tracker(const std::vector<long>& hidden_widths) {
  LifecycleTracker t;
  for (long w : hidden_widths) {
    const std::size_t n = std::size_t(w);
    t.first_death_step.emplace_back(n, -1L);
    t.born_dead.emplace_back(n, std::uint8_t(0));
    t.revived.emplace_back(n, std::uint8_t(0));
    t.dead_now.emplace_back(n, std::uint8_t(0));
    t.was_dead.emplace_back(n, std::uint8_t(0));
  }
  return t;
}

void observe_units(LifecycleTracker& t, const UnitStates& now, long step) {
  GF_ASSERT(now.dead.size() == t.dead_now.size());
  for (std::size_t l = 0; l < now.dead.size(); ++l) {
    for (std::size_t u = 0; u < now.dead[l].size(); ++u) {
      const bool dead = now.dead[l][u] != 0;
      if (!t.started) {
        t.born_dead[l][u] = dead;
      } else {
        if (dead && !t.born_dead[l][u] && t.first_death_step[l][u] < 0)
          t.first_death_step[l][u] = step;
        if (!dead && t.was_dead[l][u]) t.revived[l][u] = 1;
      }
      t.dead_now[l][u] = dead;
      t.was_dead[l][u] = t.was_dead[l][u] || dead;
    }
  }
  t.started = true;
}

std::vector<LifecycleRecord> lifecycle_records(const LifecycleTracker& t) {
  std::vector<LifecycleRecord> out;
  for (std::size_t l = 0; l < t.dead_now.size(); ++l) {
    LifecycleRecord r;
    r.layer = int(l + 1);
    r.units = long(t.dead_now[l].size());
    for (std::size_t u = 0; u < t.dead_now[l].size(); ++u) {
      const long death = t.first_death_step[l][u];
      r.born_dead += t.born_dead[l][u];
      r.dead_at_end += t.dead_now[l][u];
      r.revived += t.revived[l][u];
      if (death >= 0) {
        r.died += 1;
        r.died_dead_at_end += t.dead_now[l][u];
        r.first_death_step = r.first_death_step < 0 ? death : std::min(r.first_death_step, death);
        r.last_death_step = std::max(r.last_death_step, death);
      }
    }
    out.push_back(r);
  }
  return out;
}

}  // namespace gradflow
