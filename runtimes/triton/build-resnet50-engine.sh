#!/usr/bin/env bash
# Builds resnet50_trt/1/model.plan from an ONNX export, inside the TensorRT container matching the
# Triton release (24.08 ↔ nvcr.io/nvidia/tensorrt:24.08-py3), on the GPU type that will serve it.
#   docker run --rm --gpus all -v "$PWD/runtimes/triton:/work" nvcr.io/nvidia/tensorrt:24.08-py3 \
#     bash /work/build-resnet50-engine.sh /work/resnet50.onnx
# The ONNX model needs input "input" [N,3,224,224] FP32 and output "output" [N,1000] (e.g. a
# torchvision export with dynamic_axes on dim 0).
set -euo pipefail
onnx="${1:?usage: build-resnet50-engine.sh model.onnx}"
out="$(dirname "$0")/resnet50_trt/1/model.plan"
trtexec --onnx="$onnx" --saveEngine="$out" --fp16 \
  --minShapes=input:1x3x224x224 --optShapes=input:16x3x224x224 --maxShapes=input:32x3x224x224
echo "wrote $out"
