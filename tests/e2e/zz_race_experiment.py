import subprocess, time
from conftest import BIN, PROJECT_ROOT

def test_race(stack):
    procs = [subprocess.Popen([str(BIN / "meltano"), "run", "tap-attio", "target-postgres"], cwd=PROJECT_ROOT,
             env=stack.env, stdout=open(f"/tmp/race{i}.log", "w"), stderr=subprocess.STDOUT) for i in range(2)]
    codes = [p.wait(300) for p in procs]
    print("RACE codes", codes)
    for i in range(2):
        print(i, [l for l in open(f"/tmp/race{i}.log") if "Another" in l or "Running job" in l or "error" in l.lower()][:5])
    print(stack.meltano("state", "get", "dev:tap-attio-to-target-postgres").output[-600:])
