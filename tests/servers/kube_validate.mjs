// SPDX-License-Identifier: MIT
// Schema check for the fake kube-apiserver (kube_apiserver.py), on kubernetes-models 5.1.0
// (about Kubernetes 1.34). A long-lived child: one JSON request per stdin line, one JSON
// answer per stdout line, in order.
//
//   node kube_validate.mjs NODE_MODULES_DIR
//   first line out:  {"ready": true, "models": "5.1.0"}   (or {"ready": false, "error": "..."})
//   in:  {"id": 1, "kind": "Job" | "Service", "object": {...}}
//   out: {"id": 1, "errors": [ERROR...], "unknown": [{"field": "spec.backofLimit",
//                                                     "pointer": "/spec/backofLimit"}, ...]}
//   ERROR = {"field": "spec.template.spec.restartPolicy", "pointer": "/spec/...",
//            "stage": "decode" | "invalid", "reason": "FieldValueNotSupported" | ...,
//            "message": "Unsupported value: \"Bogus\": supported values: ..."}
//
// Two checks:
// - `new Job(obj).validate()` (ajv over the package's compiled JSON schemas): required fields,
//   JSON types, enums, formats (int32, quantity). Type and format errors are what the real
//   apiserver reports while decoding (400 BadRequest), the rest are 422 Invalid causes.
// - unknown fields: the compiled schemas allow additional properties, so the field list comes
//   from the package's .d.ts declarations (every model class lists its properties), walked
//   along the object. Field paths use the apiserver's form: a.b[0].c, maps as labels[key].
//
// Bare ESM imports do not honour NODE_PATH, so the models are loaded by absolute file URL.

import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import { pathToFileURL } from "node:url";

const MODELS = {
  Job: { file: "kubernetes-models/batch/v1/Job.js", cls: "Job", type: "IIoK8sApiBatchV1Job" },
  Service: { file: "kubernetes-models/v1/Service.js", cls: "Service", type: "IIoK8sApiCoreV1Service" },
};
const DTS_ROOTS = ["kubernetes-models", "@kubernetes-models/apimachinery"];

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

// --- .d.ts field tables ---------------------------------------------------------------------
// types: alias (IIoK8s...) -> {prop: TYPE} where TYPE is {ref}, {array}, {map} or {leaf}.
const types = new Map();

function* walkFiles(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== "node_modules") yield* walkFiles(p);
    } else if (entry.name.endsWith(".d.ts")) {
      yield p;
    }
  }
}

// Splits a class body ("\"a\"?: T; \"b\": {[key: string]: U;}; constructor(...);") into props.
function parseProps(body) {
  const props = {};
  const text = body.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\s+/g, " ");
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('"', i);
    if (start < 0) break;
    const end = text.indexOf('"', start + 1);
    const name = text.slice(start + 1, end);
    let j = end + 1;
    if (text[j] === "?") j++;
    if (text[j] !== ":") { i = end + 1; continue; }
    j++;
    let depth = 0;
    let k = j;
    for (; k < text.length; k++) {
      const c = text[k];
      if (c === "{" || c === "<" || c === "(") depth++;
      else if (c === "}" || c === ">" || c === ")") depth--;
      else if (c === ";" && depth === 0) break;
    }
    props[name] = parseType(text.slice(j, k));
    i = k + 1;
  }
  return props;
}

function parseType(t) {
  t = t.trim();
  let m;
  if ((m = /^Array<(.+)>$/.exec(t))) return { array: parseType(m[1]) };
  if ((m = /^\{ ?\[key: string\]: (.+?);? ?\}$/.exec(t))) return { map: parseType(m[1]) };
  const parts = t.split("|").map((s) => s.trim()).filter((s) => s !== "null");
  if (parts.length === 1 && /^I[A-Z]\w*$/.test(parts[0])) return { ref: parts[0] };
  return { leaf: t };
}

function loadTypes(nodeModules) {
  for (const root of DTS_ROOTS) {
    for (const file of walkFiles(path.join(nodeModules, root))) {
      const src = fs.readFileSync(file, "utf8");
      const classes = new Map();
      const classRe = /export declare class (\w+) extends Model<\w+> implements \w+ \{([\s\S]*?)\n\}/g;
      let m;
      while ((m = classRe.exec(src))) classes.set(m[1], parseProps(m[2]));
      const aliasRe = /export type \{ (\w+) as (\w+), (\w+) as (\w+) \};/g;
      while ((m = aliasRe.exec(src))) {
        const props = classes.get(m[3]);
        // A class without properties (FieldsV1) is free-form: leave it out, so it is a leaf.
        if (props && Object.keys(props).length) types.set(m[2], props);
      }
    }
  }
}

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function fieldPath(segs) {
  let s = "";
  for (const seg of segs) {
    if ("index" in seg) s += `[${seg.index}]`;
    else if ("mapKey" in seg) s += `[${seg.mapKey}]`;
    else s += (s ? "." : "") + seg.key;
  }
  return s;
}

function jsonPointer(segs) {
  const escape = (v) => String(v).replace(/~/g, "~0").replace(/\//g, "~1");
  return segs.map((s) => "/" + escape(s.key ?? s.index ?? s.mapKey)).join("");
}

function findUnknown(data, type, segs, unknown) {
  if (type.ref) {
    const props = types.get(type.ref);
    if (!props || !isObject(data)) return;
    for (const [key, value] of Object.entries(data)) {
      const at = [...segs, { key }];
      if (key in props) findUnknown(value, props[key], at, unknown);
      else unknown.push({ field: fieldPath(at), pointer: jsonPointer(at) });
    }
  } else if (type.array) {
    if (Array.isArray(data)) {
      data.forEach((v, i) => findUnknown(v, type.array, [...segs, { index: i }], unknown));
    }
  } else if (type.map) {
    if (isObject(data)) {
      for (const [key, value] of Object.entries(data)) {
        findUnknown(value, type.map, [...segs, { mapKey: key }], unknown);
      }
    }
  }
}

// A JSON pointer (ajv instancePath) in the apiserver's field notation, typed by the tables.
function pointerToField(rootType, pointer) {
  const segs = [];
  let type = rootType;
  for (const raw of pointer.split("/").slice(1)) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (type && type.array) { segs.push({ index: seg }); type = type.array; }
    else if (type && type.map) { segs.push({ mapKey: seg }); type = type.map; }
    else {
      segs.push({ key: seg });
      const props = type && type.ref ? types.get(type.ref) : null;
      type = props ? props[seg] : null;
    }
  }
  return { field: fieldPath(segs), type };
}

function valueAt(data, pointer) {
  let v = data;
  for (const raw of pointer.split("/").slice(1)) {
    if (v === null || typeof v !== "object") return undefined;
    v = v[raw.replace(/~1/g, "/").replace(/~0/g, "~")];
  }
  return v;
}

function jsonType(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "object") return "object";
  return typeof v; // string, number, boolean
}

function goType(type, format, schemaType) {
  if (type && type.array) return "[]" + goType(type.array, null, null).replace(/^\*/, "");
  if (type && type.map) return "map[string]" + goType(type.map, null, null);
  if (type && type.ref) return type.ref.replace(/^IIoK8s(Api|Apimachinery(Pkg)?)/, "");
  if (type && type.leaf) {
    if (type.leaf.startsWith("IIoK8sApimachineryPkgApiResourceQuantity")) return "resource.Quantity";
    if (type.leaf.startsWith("IIoK8sApimachineryPkgUtilIntstrIntOrString")) return "intstr.IntOrString";
    const prim = { string: "string", number: "number", boolean: "bool" }[type.leaf];
    if (prim && !schemaType) return prim;
  }
  if (format === "int32" || format === "int64") return format;
  return { integer: "integer", number: "float64", boolean: "bool", string: "string",
    array: "[]interface {}", object: "map[string]interface {}" }[schemaType] || schemaType || "value";
}

const QUANTITY_RE = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

// ajv errors -> apiserver-style errors, one per field (the most telling error of each).
function classify(kind, data, ajvErrors) {
  const rootType = { ref: MODELS[kind].type };
  const byPath = new Map();
  for (const e of ajvErrors) {
    const list = byPath.get(e.instancePath) || [];
    list.push(e);
    byPath.set(e.instancePath, list);
  }
  const result = [];
  for (const [pointer, errs] of byPath) {
    const { field, type } = pointerToField(rootType, pointer);
    const value = valueAt(data, pointer);
    const shown = JSON.stringify(value);
    const kw = (k) => errs.find((e) => e.keyword === k);
    const formatErr = kw("format");
    const typeErr = kw("type");
    for (const req of errs.filter((e) => e.keyword === "required")) {
      const child = field ? `${field}.${req.params.missingProperty}` : req.params.missingProperty;
      result.push({ field: child, pointer: `${pointer}/${req.params.missingProperty}`, stage: "invalid",
        reason: "FieldValueRequired", message: "Required value" });
    }
    if (formatErr && formatErr.params.format === "quantity") {
      result.push({ field, pointer, stage: "decode", reason: "BadRequest",
        message: `${field}: quantities must match the regular expression '${QUANTITY_RE}'` });
    } else if (typeErr || kw("oneOf")) {
      const want = typeErr ? typeErr.params.type : null;
      result.push({ field, pointer, stage: "decode", reason: "BadRequest",
        message: `json: cannot unmarshal ${jsonType(value)} into Go struct field ${field} ` +
          `of type ${goType(type, null, want)}` });
    } else if (formatErr && /^int(32|64)$/.test(formatErr.params.format)) {
      result.push({ field, pointer, stage: "decode", reason: "BadRequest",
        message: `json: cannot unmarshal number ${shown} into Go struct field ${field} ` +
          `of type ${formatErr.params.format}` });
    } else if (kw("enum")) {
      const allowed = kw("enum").params.allowedValues.map((v) => JSON.stringify(v)).join(", ");
      result.push({ field, pointer, stage: "invalid", reason: "FieldValueNotSupported",
        message: `Unsupported value: ${shown}: supported values: ${allowed}` });
    } else {
      for (const e of errs.filter((x) => x.keyword !== "required")) {
        result.push({ field, pointer, stage: "invalid", reason: "FieldValueInvalid",
          message: `Invalid value: ${shown}: ${e.message}` });
      }
    }
  }
  return result;
}

async function main() {
  const nodeModules = process.argv[2];
  const classes = {};
  let version = "?";
  try {
    if (!nodeModules) throw new Error("usage: node kube_validate.mjs NODE_MODULES_DIR");
    for (const [kind, spec] of Object.entries(MODELS)) {
      const mod = await import(pathToFileURL(path.join(nodeModules, spec.file)).href);
      classes[kind] = mod[spec.cls];
    }
    const pkg = path.join(nodeModules, "kubernetes-models/package.json");
    version = JSON.parse(fs.readFileSync(pkg, "utf8")).version;
    loadTypes(nodeModules);
    for (const spec of Object.values(MODELS)) {
      if (!types.has(spec.type)) throw new Error(`no field table for ${spec.type}`);
    }
  } catch (e) {
    out({ ready: false, error: String(e && e.message ? e.message : e) });
    process.exit(1);
  }
  out({ ready: true, models: version, types: types.size });

  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      out({ id: null, error: `bad request line: ${e.message}` });
      continue;
    }
    const { id, kind, object } = req;
    if (!MODELS[kind]) {
      out({ id, error: `no model for kind ${kind}` });
      continue;
    }
    const unknown = [];
    findUnknown(object, { ref: MODELS[kind].type }, [], unknown);
    let errors = [];
    try {
      new classes[kind](object).validate();
    } catch (e) {
      if (e && Array.isArray(e.errors)) errors = classify(kind, object, e.errors);
      else {
        errors = [{ field: "", pointer: "", stage: "invalid", reason: "FieldValueInvalid",
          message: String(e) }];
      }
    }
    out({ id, errors, unknown });
  }
}

main();
