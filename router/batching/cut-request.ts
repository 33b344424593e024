// oversize: split — a request with more rows than a batch may hold, cut into pieces of at most
// maxRows rows (views of its raw inputs, BYTES at element boundaries). Each piece is queued like any
// request and may share a batch; the answers are joined back by joinResponses.
import type { ModelInferRequest } from '../generated/inference/ModelInferRequest.js';
import type { BatchableRequest } from './batchable-request.js';
import { sliceRows } from './tensor-rows.js';

export function cutRequest(request: BatchableRequest, maxRows: number): BatchableRequest[] {
  const rows: number[] = [];
  for (let left = request.rows; left > 0; left -= maxRows) rows.push(Math.min(left, maxRows));
  const slices = request.tensors.map((t) => sliceRows(t, rows));
  return rows.map((n, p) => {
    const tensors = request.tensors.map((t, i) => ({ ...t, shape: [n, ...t.shape.slice(1)], raw: (slices[i] as Buffer[])[p] as Buffer }));
    const piece: ModelInferRequest = {
      ...request.request,
      inputs: tensors.map((t, i) => ({ name: t.name, datatype: t.datatype, shape: t.shape, parameters: request.request.inputs?.[i]?.parameters ?? {} })),
      raw_input_contents: tensors.map((t) => t.raw),
    };
    return { request: piece, tensors, rows: n, key: request.key };
  });
}
