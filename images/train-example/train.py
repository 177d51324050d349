#!/usr/bin/env python3
"""A SageMaker script-mode training script, unmodified: it only knows the SageMaker contract.

It reads the "train" channel (CSV lines "x,y"), fits y = w*x + b by gradient descent, and saves
the model where SageMaker collects it. Hyperparameters arrive as command-line arguments, exactly
as SageMaker's training toolkit passes them (--epochs 10 --lr 0.05), and as SM_HPS.
"""
import argparse
import csv
import glob
import json
import os
import sys


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=0.01)
    p.add_argument("--fail", type=str, default="false", help="raise an error (for tests)")
    p.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    p.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    p.add_argument("--output-data-dir", default=os.environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    return p.parse_known_args()[0]


def load(folder):
    rows = []
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.csv"), recursive=True)):
        with open(path, newline="") as f:
            rows.extend((float(x), float(y)) for x, y in csv.reader(f))
    if not rows:
        raise SystemExit("no training data (*.csv) found in %s" % folder)
    return rows


def fit(rows, epochs, lr):
    w = b = 0.0
    n = len(rows)
    for epoch in range(1, epochs + 1):
        gw = sum((w * x + b - y) * x for x, y in rows) * 2 / n
        gb = sum((w * x + b - y) for x, y in rows) * 2 / n
        w, b = w - lr * gw, b - lr * gb
        loss = sum((w * x + b - y) ** 2 for x, y in rows) / n
        print("epoch=%d loss=%.6f w=%.4f b=%.4f" % (epoch, loss, w, b), flush=True)
    return w, b, loss


def main():
    args = parse_args()
    hosts = json.loads(os.environ.get("SM_HOSTS", '["algo-1"]'))
    print("training on %s of %s, hyperparameters %s" % (
        os.environ.get("SM_CURRENT_HOST", "?"), hosts, os.environ.get("SM_HPS", "{}")), flush=True)
    if args.fail.lower() == "true":
        raise RuntimeError("asked to fail by the --fail hyperparameter")
    w, b, loss = fit(load(args.train), args.epochs, args.lr)
    os.makedirs(args.model_dir, exist_ok=True)
    path = os.path.join(args.model_dir, "model.json")
    with open(path, "w") as f:
        json.dump({"w": w, "b": b, "epochs": args.epochs}, f)
    os.makedirs(args.output_data_dir, exist_ok=True)
    with open(os.path.join(args.output_data_dir, "metrics.json"), "w") as f:
        json.dump({"loss": loss}, f)
    print("model saved to %s" % path, flush=True)


if __name__ == "__main__":
    sys.exit(main())
