// The ONNX protobuf schema (onnx-proto: protobufjs static code generated from onnx.proto). One importer, so
// a newer schema package can replace it in one place.
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
export type { onnx as OnnxTypes } from 'onnx-proto';
