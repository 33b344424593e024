// Checks every message, field, enum value and rpc in protos/ against the descriptors compiled into the official
// tritonclient package, so a Triton server and Triton clients decode exactly what Switchyard encodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const PROTO_DIR = fileURLToPath(new URL('../../protos/', import.meta.url));
const DUMP_SCRIPT = fileURLToPath(new URL('../fixtures/proto-interop/dump_descriptors.py', import.meta.url));
const PIP_HINT = 'pip install tritonclient[grpc,http]==2.73.0';

interface FieldFacts {
  number: number;
  type: number; // google.protobuf.FieldDescriptorProto.Type
  repeated: boolean;
  type_name: string | null;
  oneof: string | null;
  map: { key_type: number; value_type: number; value_type_name: string | null } | null;
}
interface Descriptors {
  files: string[];
  messages: Record<string, { map_entry: boolean; fields: Record<string, FieldFacts> }>;
  enums: Record<string, Record<string, number>>;
  services: Record<string, Record<string, { input_type: string; output_type: string; client_streaming: boolean; server_streaming: boolean }>>;
  health_source: string | null;
  tritonclient_version: string | null;
}

/**
 * grpc.health.v1 as published by the gRPC project (protocols.md §6.1). tritonclient ships no health descriptor,
 * so unless grpcio-health-checking is installed these facts stand in for one.
 */
const HEALTH_FACTS: Pick<Descriptors, 'messages' | 'enums' | 'services'> = {
  messages: {
    'grpc.health.v1.HealthCheckRequest': {
      map_entry: false,
      fields: { service: { number: 1, type: 9, repeated: false, type_name: null, oneof: null, map: null } },
    },
    'grpc.health.v1.HealthCheckResponse': {
      map_entry: false,
      fields: {
        status: { number: 1, type: 14, repeated: false, type_name: 'grpc.health.v1.HealthCheckResponse.ServingStatus', oneof: null, map: null },
      },
    },
  },
  enums: { 'grpc.health.v1.HealthCheckResponse.ServingStatus': { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } },
  services: {
    'grpc.health.v1.Health': {
      Check: { input_type: 'grpc.health.v1.HealthCheckRequest', output_type: 'grpc.health.v1.HealthCheckResponse', client_streaming: false, server_streaming: false },
      Watch: { input_type: 'grpc.health.v1.HealthCheckRequest', output_type: 'grpc.health.v1.HealthCheckResponse', client_streaming: false, server_streaming: true },
    },
  },
};

/** protobufjs scalar names -> FieldDescriptorProto.Type numbers (message = 11, enum = 14 come from the resolved type). */
const SCALAR_TYPES: Record<string, number> = {
  double: 1, float: 2, int64: 3, uint64: 4, int32: 5, fixed64: 6, fixed32: 7, bool: 8, string: 9,
  bytes: 12, uint32: 13, sfixed32: 15, sfixed64: 16, sint32: 17, sint64: 18,
};

let reference: Descriptors | undefined;

/** Triton's descriptors via python3 + tritonclient, with the health facts merged in; fails (never skips) without them. */
function tritonDescriptors(): Descriptors {
  if (reference !== undefined) return reference;
  const run = spawnSync('python3', [DUMP_SCRIPT], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (run.error !== undefined) {
    assert.fail(`cannot run python3 (${run.error.message}); this test needs python3 with tritonclient: ${PIP_HINT}`);
  }
  if (run.status !== 0) {
    assert.fail(`${DUMP_SCRIPT} exited with ${run.status ?? run.signal}: ${run.stderr.trim()}\nInstall the reference descriptors with: ${PIP_HINT}`);
  }
  const dump = JSON.parse(run.stdout) as Descriptors;
  assert.ok(dump.files.includes('grpc_service.proto') && dump.files.includes('model_config.proto'),
    `tritonclient descriptors lack grpc_service.proto/model_config.proto (got ${dump.files.join(', ')}); ${PIP_HINT}`);
  if (dump.health_source === null) {
    Object.assign(dump.messages, HEALTH_FACTS.messages);
    Object.assign(dump.enums, HEALTH_FACTS.enums);
    Object.assign(dump.services, HEALTH_FACTS.services);
  }
  reference = dump;
  return dump;
}

function loadProtos(dir: string): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(dir, target);
  root.loadSync(['grpc_service.proto', 'health.proto'], { keepCase: true });
  root.resolveAll();
  return root;
}

function* reflectionObjects(namespace: protobuf.NamespaceBase): Generator<protobuf.ReflectionObject> {
  for (const child of namespace.nestedArray) {
    yield child;
    if (child instanceof protobuf.Namespace || child instanceof protobuf.Type || child instanceof protobuf.Service) {
      yield* reflectionObjects(child);
    }
  }
}

const fullName = (obj: protobuf.ReflectionObject): string => obj.fullName.replace(/^\./, '');

function typeNumber(type: string, resolved: protobuf.ReflectionObject | null): number {
  if (resolved instanceof protobuf.Type) return 11;
  if (resolved instanceof protobuf.Enum) return 14;
  const scalar = SCALAR_TYPES[type];
  if (scalar === undefined) throw new Error(`unknown protobufjs type '${type}'`);
  return scalar;
}

function ourField(field: protobuf.Field | protobuf.MapField): FieldFacts {
  const resolved = field.resolvedType;
  const typeName = resolved === null ? null : fullName(resolved);
  if (field instanceof protobuf.MapField) {
    return {
      number: field.id, type: 11, repeated: true, type_name: null, oneof: field.partOf?.name ?? null,
      map: { key_type: typeNumber(field.keyType, null), value_type: typeNumber(field.type, resolved), value_type_name: typeName },
    };
  }
  return {
    number: field.id, type: typeNumber(field.type, resolved), repeated: field.repeated, type_name: typeName,
    oneof: field.partOf?.name ?? null, map: null,
  };
}

interface Comparison { mismatches: string[]; checked: { messages: number; fields: number; enumValues: number; rpcs: number } }

/** Every definition in `root` must exist in `theirs` with the same wire meaning; extra definitions there are fine. */
function compare(root: protobuf.Root, theirs: Descriptors): Comparison {
  const mismatches: string[] = [];
  const checked = { messages: 0, fields: 0, enumValues: 0, rpcs: 0 };
  for (const obj of reflectionObjects(root)) {
    const name = fullName(obj);
    if (obj instanceof protobuf.Type) {
      checked.messages++;
      const message = theirs.messages[name];
      if (message === undefined) {
        mismatches.push(`message ${name}: not in Triton's descriptors`);
        continue;
      }
      for (const field of obj.fieldsArray) {
        checked.fields++;
        const mine = ourField(field);
        const theirsField = message.fields[field.name];
        if (theirsField === undefined) {
          mismatches.push(`${name}.${field.name}: no such field in Triton's ${name}`);
          continue;
        }
        // A map is a repeated message of a synthetic *Entry type; compare key/value types, not the entry's name.
        const comparable: FieldFacts = mine.map === null ? theirsField : { ...theirsField, type_name: null };
        for (const key of ['number', 'type', 'repeated', 'type_name', 'oneof', 'map'] as const) {
          if (JSON.stringify(mine[key]) !== JSON.stringify(comparable[key])) {
            mismatches.push(`${name}.${field.name}: ${key} is ${JSON.stringify(mine[key])} here, ${JSON.stringify(comparable[key])} in Triton`);
          }
        }
      }
    } else if (obj instanceof protobuf.Enum) {
      const values = theirs.enums[name];
      if (values === undefined) {
        mismatches.push(`enum ${name}: not in Triton's descriptors`);
        continue;
      }
      for (const [valueName, number] of Object.entries(obj.values)) {
        checked.enumValues++;
        if (values[valueName] !== number) {
          mismatches.push(`${name}.${valueName}: is ${number} here, ${values[valueName] ?? 'absent'} in Triton`);
        }
      }
    } else if (obj instanceof protobuf.Service) {
      const service = theirs.services[name];
      if (service === undefined) {
        mismatches.push(`service ${name}: not in Triton's descriptors`);
        continue;
      }
      for (const method of obj.methodsArray) {
        checked.rpcs++;
        const rpc = service[method.name];
        if (rpc === undefined) {
          mismatches.push(`rpc ${name}.${method.name}: not in Triton's descriptors`);
          continue;
        }
        const mine = {
          input_type: method.resolvedRequestType === null ? method.requestType : fullName(method.resolvedRequestType),
          output_type: method.resolvedResponseType === null ? method.responseType : fullName(method.resolvedResponseType),
          client_streaming: method.requestStream === true,
          server_streaming: method.responseStream === true,
        };
        for (const key of ['input_type', 'output_type', 'client_streaming', 'server_streaming'] as const) {
          if (mine[key] !== rpc[key]) mismatches.push(`rpc ${name}.${method.name}: ${key} is ${mine[key]} here, ${rpc[key]} in Triton`);
        }
      }
    }
  }
  return { mismatches, checked };
}

test('protos/ is a wire-compatible subset of the tritonclient descriptors', () => {
  const triton = tritonDescriptors();
  const { mismatches, checked } = compare(loadProtos(PROTO_DIR), triton);
  assert.deepEqual(mismatches, [], `against tritonclient ${triton.tritonclient_version ?? '?'} (health from ${triton.health_source ?? 'protocols.md §6.1'})`);
  // Guard against a vacuous pass (e.g. protos failing to load into the walked namespace).
  assert.ok(checked.messages >= 40, `only ${checked.messages} messages compared`);
  assert.ok(checked.fields >= 150, `only ${checked.fields} fields compared`);
  assert.ok(checked.enumValues >= 20, `only ${checked.enumValues} enum values compared`);
  assert.ok(checked.rpcs >= 14, `only ${checked.rpcs} rpcs compared`);
});

/** One edit to a copy of protos/ and the mismatch the checker must then report. */
const MUTATIONS: { file: string; from: string; to: string; expect: RegExp }[] = [
  { file: 'grpc_service.proto', from: 'repeated int64 int64_contents = 3;', to: 'repeated int64 int64_contents = 13;',
    expect: /^inference\.InferTensorContents\.int64_contents: number is 13 here, 3 in Triton$/ },
  { file: 'grpc_service.proto', from: 'uint64 last_inference = 3;', to: 'int64 last_inference = 3;',
    expect: /^inference\.ModelStatistics\.last_inference: type is 3 here, 4 in Triton$/ },
  { file: 'grpc_service.proto', from: 'repeated string extensions = 3;', to: 'string extensions = 3;',
    expect: /^inference\.ServerMetadataResponse\.extensions: repeated is false here, true in Triton$/ },
  { file: 'grpc_service.proto', from: 'InferTensorContents contents = 5;', to: 'InferParameter contents = 5;',
    expect: /^inference\.ModelInferRequest\.InferInputTensor\.contents: type_name is "inference\.InferParameter" here/ },
  { file: 'grpc_service.proto', from: 'map<string, ModelRepositoryParameter> parameters = 3;\n}\nmessage RepositoryModelLoadResponse',
    to: 'map<string, InferParameter> parameters = 3;\n}\nmessage RepositoryModelLoadResponse',
    expect: /^inference\.RepositoryModelLoadRequest\.parameters: map is .*"inference\.InferParameter".* here/ },
  { file: 'grpc_service.proto', from: 'rpc ModelStreamInfer(stream ModelInferRequest)', to: 'rpc ModelStreamInfer(ModelInferRequest)',
    expect: /^rpc inference\.GRPCInferenceService\.ModelStreamInfer: client_streaming is false here, true in Triton$/ },
  { file: 'model_config.proto', from: 'TYPE_BF16 = 14;', to: 'TYPE_BF16 = 15;', expect: /^inference\.DataType\.TYPE_BF16: is 15 here, 14 in Triton$/ },
  { file: 'model_config.proto', from: 'oneof scheduling_choice {\n    ModelDynamicBatching dynamic_batching = 11;\n  }',
    to: 'ModelDynamicBatching dynamic_batching = 11;',
    expect: /^inference\.ModelConfig\.dynamic_batching: oneof is null here, "scheduling_choice" in Triton$/ },
  { file: 'health.proto', from: 'NOT_SERVING = 2;', to: 'NOT_SERVING = 4;',
    expect: /^grpc\.health\.v1\.HealthCheckResponse\.ServingStatus\.NOT_SERVING: is 4 here, 2 in Triton$/ },
];

test('the checker catches a changed field number, type, label, reference, map, oneof, enum value and streaming flag', () => {
  const triton = tritonDescriptors();
  const dir = mkdtempSync(path.join(tmpdir(), 'swy-proto-interop-'));
  try {
    for (const mutation of MUTATIONS) {
      cpSync(PROTO_DIR, dir, { recursive: true });
      const file = path.join(dir, mutation.file);
      const text = readFileSync(file, 'utf8');
      assert.ok(text.includes(mutation.from), `mutation target ${JSON.stringify(mutation.from)} no longer in ${mutation.file}; update MUTATIONS`);
      writeFileSync(file, text.replace(mutation.from, mutation.to));
      const { mismatches } = compare(loadProtos(dir), triton);
      assert.ok(mismatches.some((m) => mutation.expect.test(m)), `${mutation.to}: expected ${mutation.expect}, got ${JSON.stringify(mismatches)}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
