// sbatch scripts for sweeps and sbatch's reply; see slurm.hpp.
#include "run/slurm.hpp"

#include <algorithm>
#include <cctype>

#include "base/errors.hpp"

namespace gradflow {
namespace {

bool all_of_chars(std::string_view text, std::string_view allowed_punctuation) {
  return std::all_of(text.begin(), text.end(), [&](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           allowed_punctuation.find(c) != std::string_view::npos;
  });
}

bool digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Slurm's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S, or UNLIMITED / INFINITE.
bool slurm_time(std::string_view t) {
  if (t == "UNLIMITED" || t == "INFINITE") return true;
  const std::size_t fields_max = 3;
  if (const std::size_t dash = t.find('-'); dash != std::string_view::npos) {
    if (!digits(t.substr(0, dash))) return false;
    t = t.substr(dash + 1);
  }
  std::size_t fields = 0;
  while (true) {
    const std::size_t colon = t.find(':');
    if (!digits(t.substr(0, colon)) || ++fields > fields_max) return false;
    if (colon == std::string_view::npos) return true;
    t = t.substr(colon + 1);
  }
}

// Job names show in squeue; keep them to characters no tool mangles.
std::string job_name(const std::string& name) {
  std::string out = "gradflow-";
  for (char c : name)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '_';
  return out;
}

// The #SBATCH lines both scripts share.
std::string common_directives(const SlurmJob& job, const SlurmOptions& o) {
  std::string s = "#SBATCH --chdir=" + job.out_dir + "\n";
  if (!o.partition.empty()) s += "#SBATCH --partition=" + o.partition + "\n";
  if (!o.time.empty()) s += "#SBATCH --time=" + o.time + "\n";
  return s;
}

std::string setup_lines(const SlurmOptions& o) {
  std::string s;
  for (const std::string& line : o.setup) s += line + "\n";
  return s;
}

}  // namespace

std::string shard_dir(const std::string& out_dir, std::size_t shard) {
  return out_dir + "/shards/" + std::to_string(shard);
}
std::string slurm_dir(const std::string& out_dir) { return out_dir + "/slurm"; }
std::string logs_dir(const std::string& out_dir) { return out_dir + "/logs"; }

std::size_t choose_array_size(std::size_t requested, std::size_t run_count, std::size_t earlier) {
  GF_ASSERT(run_count >= 1);
  if (earlier > 0) {
    if (requested > 0 && requested != earlier)
      throw InputError("--array-size", "",
                       "this folder was submitted with --array-size " + std::to_string(earlier) +
                           " (its shards are slices of that size); resubmit with the same size, "
                           "or submit into a fresh --out, got " +
                           std::to_string(requested));
    return earlier;
  }
  if (requested == 0) return run_count;
  // An empty task would only queue, start and exit: one run per task is the most useful.
  return std::min(requested, run_count);
}

std::vector<std::size_t> shards_to_run(const SweepPlan& plan, std::size_t shard_count,
                                       const std::function<bool(const RunSpec&)>& finished) {
  GF_ASSERT(shard_count >= 1);
  std::vector<bool> needed(shard_count, false);
  for (const RunSpec& run : plan.runs)
    if (!needed[run.index % shard_count] && !finished(run)) needed[run.index % shard_count] = true;
  std::vector<std::size_t> shards;
  for (std::size_t i = 0; i < shard_count; ++i)
    if (needed[i]) shards.push_back(i);
  return shards;
}

std::string array_spec(const std::vector<std::size_t>& tasks) {
  std::string spec;
  for (std::size_t k = 0; k < tasks.size();) {
    std::size_t end = k;
    while (end + 1 < tasks.size() && tasks[end + 1] == tasks[end] + 1) ++end;
    if (!spec.empty()) spec += ',';
    spec += std::to_string(tasks[k]);
    if (end > k) {
      spec += '-';
      spec += std::to_string(tasks[end]);
    }
    k = end + 1;
  }
  return spec;
}

void check_slurm_options(const SlurmOptions& o) {
  if (!o.partition.empty() && !all_of_chars(o.partition, "_-.,"))
    throw InputError("--partition", "",
                     "expected a partition name (letters, digits, _ - . and commas between "
                     "names), got \"" + o.partition + "\"");
  if (!o.time.empty() && !slurm_time(o.time))
    throw InputError("--time", "",
                     "expected a Slurm time limit: minutes, M:S, H:M:S, D-H, D-H:M or D-H:M:S "
                     "(e.g. 30, 2:00:00, 1-12), got \"" + o.time + "\"");
  for (const std::string& line : o.setup)
    if (line.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos)
      throw InputError("--setup", "", "expected one shell line (no line breaks) per --setup");
}

void check_sbatch_path(const std::string& option, const std::string& path) {
  // #SBATCH lines are split at blanks, and sbatch expands %A, %a, %j... in --output.
  for (char c : path) {
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c)) ||
        std::string_view("%'\"\\$`").find(c) != std::string_view::npos)
      throw InputError(option, "",
                       "Slurm's #SBATCH lines cannot hold this path (blanks, quotes, %, $, \\ and "
                       "` are not allowed): \"" + path + "\"");
  }
}

std::string array_script(const SlurmJob& job, const SlurmOptions& o) {
  GF_ASSERT(!job.tasks.empty() && job.tasks.back() < job.shard_count);
  const std::string n = std::to_string(job.shard_count);
  std::string s = "#!/bin/bash\n";
  s += "# Written by `gradflow submit`: sweep \"" + job.name + "\" as " + n +
       " shards; task i trains `--shard i/" + n + "` into shards/i.\n";
  s += "# The dependent job in merge.sbatch joins the shards into " + job.out_dir + ".\n";
  s += "#SBATCH --job-name=" + job_name(job.name) + "\n";
  s += "#SBATCH --array=" + array_spec(job.tasks) + "\n";
  s += "#SBATCH --output=" + logs_dir(job.out_dir) + "/task_%A_%a.out\n";
  s += common_directives(job, o);
  if (o.cpus_per_task > 0) s += "#SBATCH --cpus-per-task=" + std::to_string(o.cpus_per_task) + "\n";
  s += "set -eu\n";
  s += setup_lines(o);
  s += "# N is fixed rather than $SLURM_ARRAY_TASK_COUNT: a resubmission runs only some tasks.\n";
  s += "shard=\"$SLURM_ARRAY_TASK_ID\"\n";
  s += "exec " + shell_quote(job.gradflow) + " run " + shell_quote(job.config);
  for (const std::string& set : job.overrides) s += " --set " + shell_quote(set);
  s += " \\\n  --out " + shell_quote(job.out_dir + "/shards") + "/\"$shard\" --shard \"$shard/" +
       n + "\" --jobs \"${SLURM_CPUS_PER_TASK:-1}\"\n";
  return s;
}

std::string merge_script(const SlurmJob& job, const SlurmOptions& o) {
  std::string s = "#!/bin/bash\n";
  s += "# Written by `gradflow submit`: joins the shards of sweep \"" + job.name + "\" into " +
       job.out_dir + ";\n# runs after the array whatever its tasks' fate, and lists missing "
       "runs (exit 3).\n";
  s += "#SBATCH --job-name=" + job_name(job.name) + "-merge\n";
  s += "#SBATCH --output=" + logs_dir(job.out_dir) + "/merge_%j.out\n";
  s += common_directives(job, o);
  s += "set -eu\n";
  s += setup_lines(o);
  s += "# The folder holds the plan's manifest; a shard whose task never started has none.\n";
  s += "shards=()\n";
  s += "for i in $(seq 0 " + std::to_string(job.shard_count - 1) + "); do\n";
  s += "  shard=" + shell_quote(job.out_dir + "/shards") + "/\"$i\"\n";
  s += "  if [ -f \"$shard/sweep.json\" ]; then shards+=(\"$shard\"); fi\n";
  s += "done\n";
  s += "exec " + shell_quote(job.gradflow) + " merge " + shell_quote(job.out_dir) +
       " \"${shards[@]}\" --out " + shell_quote(job.out_dir) + "\n";
  return s;
}

std::string parse_sbatch_job_id(std::string_view reply) {
  std::string_view text = reply;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  // The job id ends the reply ("Submitted batch job 123", "123" or "123;cluster").
  std::size_t line_start = text.rfind('\n');
  std::string_view line = text.substr(line_start == std::string_view::npos ? 0 : line_start + 1);
  constexpr std::string_view kPlain = "Submitted batch job ";
  if (line.starts_with(kPlain)) line.remove_prefix(kPlain.size());
  line = line.substr(0, line.find(';'));
  if (!digits(line))
    throw InputError("sbatch", "",
                     "expected a job id in sbatch's reply, got \"" + std::string(reply) + "\"");
  return std::string(line);
}

std::string shell_quote(std::string_view text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace gradflow
