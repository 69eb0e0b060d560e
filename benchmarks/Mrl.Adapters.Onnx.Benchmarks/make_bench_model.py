#!/usr/bin/python3
"""Writes a BERT encoder with MiniLM-L6's shape (hidden 384, 12 heads, intermediate 1536, 6 layers) and random
weights, with the fixture's WordPiece vocabulary, for the encoder measurement: the test fixture (hidden 64, 2 layers)
makes InferenceSession.Run so cheap that the work around it looks larger than it is with a real model.

    /usr/bin/python3 benchmarks/Mrl.Adapters.Onnx.Benchmarks/make_bench_model.py OUTPUT_DIR

About 43 MB; not committed. The embeddings mean nothing: only the amount of work per token is a real model's.
"""

import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "tests", "fixtures", "onnx")
sys.path.insert(0, FIXTURES)
import make_fixtures as mf  # noqa: E402

# make_fixtures reads these module constants when it builds weights and graphs.
mf.HIDDEN = 384
mf.HEADS = 12
mf.HEAD_DIM = mf.HIDDEN // mf.HEADS
mf.INTERMEDIATE = 1536
mf.LAYERS = 6


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_bench_model.py OUTPUT_DIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    tokens = mf.build_vocab()
    w = mf.make_weights(len(tokens))
    with open(os.path.join(out, "model.onnx"), "wb") as f:
        f.write(mf.encoder_graph(w, use_token_types=True, pooled=False).SerializeToString())
    shutil.copyfile(os.path.join(FIXTURES, "base", "vocab.txt"), os.path.join(out, "vocab.txt"))
    print(f"{out}: hidden {mf.HIDDEN}, {mf.LAYERS} layers, intermediate {mf.INTERMEDIATE}, vocab {len(tokens)}")


if __name__ == "__main__":
    main()
