"""Merge the per-fit lines of the study logs (``studies/logs/*.log``) into
one table per study: median (mean ± std) over the seeds measured, mean fit
seconds, number of seeds. Configurations run more than once (the same seed
in two logs) must agree; the first is kept.

Usage::

    python studies/summarise.py
"""

import glob
import os
import re

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CLF = re.compile(r"^(\w+) seed (\d+) (\S+): acc ([\d.]+) fit ([\d.]+) s (\d+) ep")
REG = re.compile(r"^(\w+) (\w+) seed (\d+) (\S+): rmse ([\d.]+) fit ([\d.]+) s (\d+) ep")
EXTRA = re.compile(r'"extra": (\{[^}]*\})')


def main():
    clf, reg = {}, {}
    for path in sorted(glob.glob(os.path.join(HERE, "logs", "*.log"))):
        text = open(path).read()
        extra = EXTRA.search(text.splitlines()[0]) if text else None
        tag = f"extra {extra.group(1)}" if extra else "extra"
        for line in text.splitlines():
            m = CLF.match(line)
            if m:
                name, seed, config = m[1], int(m[2]), m[3]
                config = tag if config == "extra" else config
                clf.setdefault((name, config), {}).setdefault(seed, (float(m[4]), float(m[5])))
            m = REG.match(line)
            if m:
                key = (m[1], f"{m[4]} ({m[2]})")
                reg.setdefault(key, {}).setdefault(int(m[3]), (float(m[5]), float(m[6])))
    for title, res, fmt in (("classification: test accuracy", clf, ".3f"),
                            ("regression: test RMSE", reg, ".4f")):
        print(f"\n## {title}\n")
        print("| data set | configuration | median | mean ± std | seeds | mean fit s |")
        print("|---|---|---|---|---|---|")
        for (name, config), by_seed in sorted(res.items()):
            a = np.array([by_seed[s] for s in sorted(by_seed)])
            print(f"| {name} | {config} | {np.median(a[:, 0]):{fmt}} | {a[:, 0].mean():{fmt}} ± "
                  f"{a[:, 0].std():{fmt}} | {len(a)} | {a[:, 1].mean():.0f} |")


if __name__ == "__main__":
    main()
