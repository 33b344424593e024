// Public API of the KServe V2 tensor codec: JSON, typed contents and gRPC messages to and from raw bytes.
export type { RawTensor, JsonElement } from './raw-tensor.js';
export { elementCount } from './element-count.js';
export { parseDatatype } from './parse-datatype.js';
export { parseShape } from './parse-shape.js';
export { jsonToRaw } from './json-to-raw.js';
export { rawToJson } from './raw-to-json.js';
export { validateRaw } from './validate-raw.js';
export { contentsToRaw } from './contents-to-raw.js';
export { rawToContents } from './raw-to-contents.js';
export { contentsField, type ContentsField } from './contents-field.js';
export { inputsFromRequest } from './inputs-from-request.js';
export { outputsFromResponse } from './outputs-from-response.js';
export { splitBytesElements, joinBytesElements } from './bytes-elements.js';
export { FP16, BF16, HalfFloat } from './half-float.js';
