#!/usr/bin/env python3
# A corpus of N key-file names as hard links to the 200k bench image's files (no new inodes or data): for memory
# figures when generating N real files does not fit the session. Names: <32 hex>_<this machine's GUID>, 1 in 200
# under a cloned GUID, all lower case, distinct.
import os, random, sys
n = int(sys.argv[1])
src = "/tmp/keydoctor-bench/clean-image-200000/ProgramData/Microsoft/Crypto/RSA/MachineKeys"
root = f"/tmp/keydoctor-bench/clean-links-{n}"
keys = f"{root}/ProgramData/Microsoft/Crypto/RSA/MachineKeys"
os.makedirs(keys, exist_ok=True); os.makedirs(f"{root}/registry", exist_ok=True)
sources = sorted(os.listdir(src))
rnd = random.Random(n)
have = len(os.listdir(keys))
if have >= n: print("complete", have); sys.exit(0)
for i in range(n):
    guid = "0d5b4c0e-93a1-4a43-9f55-3f0e5b1b7c2a" if i % 200 == 17 else "4f8e7ec6-a506-4d31-9d5a-1e4cbed4997b"
    name = "%032x_%s" % (rnd.getrandbits(128), guid)
    try: os.link(f"{src}/{sources[i % len(sources)]}", f"{keys}/{name}")
    except FileExistsError: pass
open(f"{root}/registry/machine.reg", "wb").write(open("/tmp/keydoctor-bench/clean-image-200000/registry/machine.reg", "rb").read())
os.utime(f"{root}/registry/machine.reg", (os.stat("/tmp/keydoctor-bench/clean-image-200000/registry/machine.reg").st_mtime,)*2)
print("done", n)
