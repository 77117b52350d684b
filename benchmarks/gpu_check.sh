#!/usr/bin/env bash
# One short GPU check for skrnn (about 2-4 minutes on an H100; hard cap 7.5):
#   1. tests/test_cuda.py (fit/predict on CUDA, padded kernel == packed == CPU,
#      GPU-trained models pickle / save and predict on a CPU-only process);
#   2. benchmarks/gpu_check.py: RNNClassifier vs a plain PyTorch loop (LSTM
#      hidden 64, Adam, batch 256), fp16 autocast,
#      on digits-as-sequences and synthetic variable-length data; prints a
#      markdown table with the card's name.
# Needs only torch (CUDA build), numpy, scikit-learn, pandas, scipy, tqdm and
# pytest; no network. Run from anywhere:  bash benchmarks/gpu_check.sh
# Extra arguments go to gpu_check.py (e.g. --epochs 10).
set -u
cd "$(dirname "$0")/.."
echo "== $(date -u +%H:%M:%S) environment"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python -c "import torch, skrnn; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(), '| skrnn', skrnn.__version__)"
echo "== $(date -u +%H:%M:%S) tests/test_cuda.py"
timeout 170 python -m pytest tests/test_cuda.py -q -rs -p no:cacheprovider
tests_rc=$?
echo "== $(date -u +%H:%M:%S) benchmarks/gpu_check.py"
timeout 270 python benchmarks/gpu_check.py "$@"
bench_rc=$?
echo "== $(date -u +%H:%M:%S) done: tests rc=$tests_rc, benchmark rc=$bench_rc"
exit $(( tests_rc != 0 || bench_rc != 0 ))
