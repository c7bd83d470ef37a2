//! `workload-sem`: Python's multiprocessing, the workload `posix_ipc.semaphores`
//! exists for: a `multiprocessing.Lock()` (a named POSIX semaphore,
//! `sem_open`) taken and released, then one job through a
//! `ProcessPoolExecutor` (its queues hold more semaphores; on macOS it
//! first reads `sysconf(SC_SEM_NSEMS_MAX)`). Runs [`workload::PYTHON`];
//! `unsupported` where it is not installed.

use crate::args::ProbeArgs;
use crate::context::Ctx;
use crate::outcome::Outcome;
use crate::workload;

/// Steps the script reports (in order).
const STEPS: &[&str] = &["import", "Lock", "acquire", "ProcessPoolExecutor", "submit"];

/// The script: `-c` code, so nothing is written to disk. The job is
/// `operator.mul`, which a spawned worker (macOS's default start method)
/// can unpickle without re-importing a `__main__` module.
const SCRIPT: &str = r#"
import multiprocessing, concurrent.futures, operator
step = "Lock"
lock = multiprocessing.Lock()
step = "acquire"
with lock:
    pass
step = "ProcessPoolExecutor"
with concurrent.futures.ProcessPoolExecutor(max_workers=1) as pool:
    step = "submit"
    got = pool.submit(operator.mul, 6, 7).result()
if got != 42:
    report(False, step, None, "the job returned %r, not 42" % (got,))
    sys.exit(3)
report(True, step, None, "Lock() taken and released; ProcessPoolExecutor ran 6*7 = 42 (start method %s)" % multiprocessing.get_start_method())
"#;

pub fn run(_: &ProbeArgs, ctx: &Ctx) -> Outcome {
    workload::python(ctx, SCRIPT, &[], STEPS)
}
