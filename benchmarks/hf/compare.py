#!/usr/bin/env python3
"""bertkit against transformers on this CPU, side by side: each row runs the bertkit program
and its transformers peer ALTERNATELY (A B A B ...), each in a fresh process with the same
thread count (OMP_NUM_THREADS and torch.set_num_threads), shapes and data, and prints one
Markdown table of medians and ratios (transformers time / bertkit time: > 1 means bertkit
is faster), with each side's peak RSS (from wait4 of the child). Run through
scripts/bench/compare-cpu.sh, which sets up the transformers environment."""
import argparse, json, os, platform, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"  # Debian's python with Debian's torch 1.13 (the LibTorch bertkit links)


def run_child(cmd, threads, log):
    """Runs cmd; returns (its last JSON line or {}, wall s, user+sys CPU s, peak RSS MiB)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    with tempfile.TemporaryFile("w+") as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=HERE)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    log.write("$ " + " ".join(cmd) + "\n" + text + "\n")
    log.flush()
    if p.returncode != 0:
        sys.exit(f"compare: failed (exit {p.returncode}): {' '.join(cmd)}\n{text[-2000:]}")
    record = {}
    for line in text.splitlines():
        if line.startswith("{\""):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                pass
    return record, wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024.0


class Row:
    """One line of the table: a bertkit command and a transformers command measuring the same
    work, and how to read the time from each (a JSON key of the child's line, or the process's
    wall time when key is None)."""

    def __init__(self, name, threads, bertkit, hf, bertkit_key, hf_key, unit="s", scale=1.0, note=""):
        self.name, self.threads, self.bertkit, self.hf = name, threads, bertkit, hf
        self.keys, self.unit, self.scale, self.note = (bertkit_key, hf_key), unit, scale, note
        self.samples = ([], [])  # per side: (time, cpu, rss)
        self.reps = 0  # 0: the command line's --reps

    def measure(self, reps, log):
        reps = self.reps or reps
        for r in range(reps):
            for side, cmd in enumerate((self.bertkit, self.hf)):
                rec, wall, cpu, rss = run_child(cmd, self.threads, log)
                key = self.keys[side]
                t = wall if key is None else float(rec[key]) * self.scale
                self.samples[side].append((t, cpu, rss))
                print(f"  {self.name}: {('bertkit', 'transformers')[side]} rep {r + 1}: {t:.3f} {self.unit}, "
                      f"process CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB", file=sys.stderr, flush=True)

    def cells(self):
        med = [statistics.median(x[0] for x in s) for s in self.samples]
        rss = [max(x[2] for x in s) for s in self.samples]
        cpu = [statistics.median(x[1] for x in s) for s in self.samples]
        spread = [f"{min(x[0] for x in s):.3g}–{max(x[0] for x in s):.3g}" for s in self.samples]
        return (f"| {self.name} | {self.threads} | {med[0]:.3g} {self.unit} | {med[1]:.3g} {self.unit} | "
                f"**{med[1] / med[0]:.2f}×** | {spread[0]} / {spread[1]} | {cpu[0]:.1f} / {cpu[1]:.1f} | "
                f"{rss[0]:.0f} / {rss[1]:.0f} | {self.note} |")


def subset_tsv(src, dst, n):
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as g:
        for i, line in enumerate(f):
            if i > n:
                break
            g.write(line)


def sentences_file(src, dst, n):
    with open(src, encoding="utf-8") as f, open(dst, "w", encoding="utf-8") as g:
        f.readline()
        for i, line in enumerate(f):
            if i >= n:
                break
            g.write(line.split("\t")[0].strip() + "\n")


def rows(a, work, shared):
    bk = lambda prog: os.path.join(a.build, prog)
    hf = lambda script: [PY, os.path.join(HERE, script)]
    q = a.quick
    mini = "tiny" if q else "bert-mini"
    base = "tiny" if q else "bert-base"
    glue = os.path.join(shared, "data", "glue", "SST-2")
    vocab = os.path.join(shared, "data", "bert-vocab", "bert-base-uncased-vocab.txt")
    train = os.path.join(work, "sst2-train.tsv")
    subset_tsv(os.path.join(glue, "train.tsv"), train, 4096)  # both sides tokenize the same 4096 sentences
    dev = os.path.join(work, "sst2-dev.tsv")
    subset_tsv(os.path.join(glue, "dev.tsv"), dev, 64 if q else 10 ** 9)
    texts = os.path.join(work, "sst2-train.txt")
    sentences_file(os.path.join(glue, "train.tsv"), texts, 2000 if q else 20000)
    model_dir = os.path.join(work, f"{base}-sst2-init")
    run_child(hf("make_model.py") + ["--model", "2-layer" if q else base, model_dir], 1, a.log)
    out = []
    for name, shape, threads, steps, warm in [("pretraining step, %s, 8 × 128" % mini, mini, 1, 1 if q else 5, 1),
                                              ("pretraining step, %s, 8 × 128" % base, base, 2, 1 if q else 2, 1)]:
        common = ["--model", shape, "--batch-size", "8", "--seq-len", "128", "--steps", str(steps),
                  "--warmup-steps", str(warm), "--threads", str(threads)]
        out.append(Row(name, threads, [bk("bench_pretrain"), "--device", "cpu"] + common, hf("pretrain.py") + common,
                       "ms_per_step", "ms_per_step", "s", 1e-3,
                       f"{steps} timed steps after {warm}; bertkit: MLM head on masked positions only"))
        out[-1].reps = a.base_reps if shape == "bert-base" else 0
    for shape, threads, steps, warm in [("2-layer", 1, 3 if q else 50, 1 if q else 3),
                                        ("2-layer" if q else "bert-base", 2, 1 if q else 2, 1)]:
        common = ["--model", shape, "--batch-size", "32", "--steps", str(steps), "--warmup-steps", str(warm),
                  "--threads", str(threads)]
        out.append(Row(f"fine-tuning step, {shape}, SST-2 × 32", threads,
                       [bk("bench_finetune"), "--train", train, "--vocab", vocab] + common,
                       hf("finetune.py") + ["--train", train] + common, "ms_per_step", "ms_per_step", "s", 1e-3,
                       f"{steps} timed steps after {warm}; random batches of the first 4096 train sentences, "
                       "padded to the longest (HF Trainer + DataCollatorWithPadding)"))
        out[-1].reps = a.base_reps if shape == "bert-base" else 0
    n_dev = "64" if q else "872"
    out.append(Row(f"classify SST-2 dev ({n_dev}), {'2-layer' if q else base}, end to end", 2,
                   [bk("bertkit"), "evaluate", model_dir, "--task", "classification", "--data", dev,
                    "--set", "data.text_column=sentence"],
                   hf("infer.py") + [model_dir, "--data", dev, "--threads", "2"], None, None, "s", 1.0,
                   "process wall: load + tokenize + forward; same checkpoint (HF save_pretrained); "
                   "HF: batch 32 file order padded to the longest, inference_mode; bertkit evaluate: batch 32 "
                   "length-sorted, padding-free"))
    out[-1].reps = 0 if q else a.base_reps
    if a.diagnose:
        for order, pf in [("--file-order", "off"), ("--sort-by-length", "on")]:
            out.append(Row(f"classify SST-2 dev, forward loop, bench_infer {order} padding-free {pf}", 2,
                           [bk("bench_infer"), "--model", model_dir, "--data", dev, "--threads", "2", order,
                            "--padding-free", pf],
                           hf("infer.py") + [model_dir, "--data", dev, "--threads", "2"], "seconds", "seconds", "s",
                           1.0, "timed loop only (HF: tokenize + forward; bench_infer: collate + forward)"))
    out.append(Row(f"tokenize {'2 000' if q else '20 000'} SST-2 train sentences", 1,
                   [bk("bertkit"), "tokenize", "-t", vocab, "--format", "text", "--threads", "1", "-i", texts,
                    "-o", os.path.join(work, "tokens.jsonl")],
                   hf("encode.py") + [texts], None, None, "s", 1.0,
                   "process wall both: bertkit tokenize (vocab load, read, encode, write JSONL, 1 thread) vs a "
                   "script running the slow BertTokenizer (Python start-up and imports included)"))
    return sorted(out, key=lambda r: bool(r.reps))  # the quick rows first, the BERT-base ones (r.reps set) last


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"), help="bertkit build directory")
    ap.add_argument("--shared", default=os.environ.get("BERTKIT_SHARED_DIR", os.path.join(HERE, "..", "..", "..", "shared")))
    ap.add_argument("--reps", type=int, default=3, help="alternating repetitions per row (median reported)")
    ap.add_argument("--base-reps", type=int, default=2, help="repetitions of the BERT-base rows (slow)")
    ap.add_argument("--quick", action="store_true", help="smoke test: tiny shapes, one step, 64 dev sentences, 1 rep")
    ap.add_argument("--diagnose", action="store_true", help="also bench_infer's forward loops against HF's")
    ap.add_argument("--only", help="run only rows whose name contains this")
    ap.add_argument("--log", help="every child's output (default: BUILD/compare-cpu.log)")
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)
    a.log = a.log or os.path.join(a.build, "compare-cpu.log")
    reps = 1 if a.quick else a.reps
    if a.quick:
        a.base_reps = 1
    # Versions from a child: importing torch here would raise every child's peak RSS (a forked
    # child's high-water mark starts at its parent's).
    versions = subprocess.run([PY, "-c", "import torch, transformers; print(transformers.__version__, torch.__version__)"],
                              capture_output=True, text=True, check=True).stdout.split()
    with open(a.log, "w") as log, tempfile.TemporaryDirectory(prefix="compare-cpu.") as work:
        a.log = log
        started = time.time()
        load0 = os.getloadavg()
        table = [r for r in rows(a, work, os.path.abspath(a.shared)) if not a.only or a.only in r.name]
        # Rows are printed as they finish, so a run cut short still leaves its measured rows.
        print("| work | threads | bertkit | transformers | ratio (HF/bertkit) | range bertkit / HF | "
              "process CPU s bertkit / HF | peak RSS MiB bertkit / HF | notes |")
        print("|---|---|---|---|---|---|---|---|---|", flush=True)
        for r in table:
            print(f"{r.name} ({r.threads} thread(s), {r.reps or reps} alternating reps)", file=sys.stderr, flush=True)
            r.measure(reps, log)
            print(r.cells(), flush=True)
        load1 = os.getloadavg()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    mem = next((int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")), 0) / 2 ** 20
    print(f"\nMachine: {cpu}, {os.cpu_count()} cores, {mem:.0f} GiB; {platform.platform()}. "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started))}, {(time.time() - started) / 60:.0f} min; "
          f"load average {load0[0]:.1f} at start, {load1[0]:.1f} at end. transformers {versions[0]} "
          f"(not 4.47: see scripts/bench/hfref-install.sh) on torch {versions[1]}; medians of {reps} alternating "
          f"run(s) ({a.base_reps} for BERT-base rows){' (--quick: smoke test, not a measurement)' if a.quick else ''}.")


if __name__ == "__main__":
    main()
