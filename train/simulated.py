"""Train through kernels.cuda in numba's CUDA simulator, from a process that has no GPU.

numba.cuda decides on the simulator once, when it is first imported, so the run happens in a
fresh Python process that switches the simulator on first (kernels.cuda_target.use_simulator).
The simulator runs one Python thread per CUDA thread: only tiny networks and a few steps are
affordable (seconds).
The arguments and the resulting `Run` travel as pickles through files.
"""

import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHILD = "from train.simulated import child_main; child_main()"


def run_in_simulator(X, Y, layer_dims, learning_rate, epochs, batch_size, seed=0, timeout=300):
    """`experiments.train_run(kernels.cuda, ...)` in the simulator; returns the Run.

    Raises RuntimeError with the child's last error line when it cannot run.
    """
    arguments = dict(X=X, Y=Y, layer_dims=layer_dims, learning_rate=learning_rate,
                     epochs=epochs, batch_size=batch_size, seed=seed, label="cuda")
    env = dict(os.environ,
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    with tempfile.TemporaryDirectory() as folder:
        inbox, outbox = Path(folder) / "in.pickle", Path(folder) / "out.pickle"
        inbox.write_bytes(pickle.dumps(arguments))
        done = subprocess.run([sys.executable, "-c", CHILD, str(inbox), str(outbox)], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0 or not outbox.exists():
            lines = (done.stderr or "no output").strip().splitlines()
            raise RuntimeError(f"kernels.cuda in the simulator failed: {lines[-1]}")
        return pickle.loads(outbox.read_bytes())


def child_main():
    """In the simulator process: argv = (arguments pickle, result pickle)."""
    from kernels.cuda_target import use_simulator

    use_simulator()  # before anything imports numba.cuda
    from kernels.paths import load_path
    from train.runs import train_run

    inbox, outbox = sys.argv[1:3]
    arguments = pickle.loads(Path(inbox).read_bytes())
    module, reason = load_path("cuda")
    if module is None:
        raise RuntimeError(reason)
    run = train_run(module, arguments.pop("X"), arguments.pop("Y"), arguments.pop("layer_dims"),
                    arguments.pop("learning_rate"), arguments.pop("epochs"),
                    arguments.pop("batch_size"), **arguments)
    Path(outbox).write_bytes(pickle.dumps(run))
