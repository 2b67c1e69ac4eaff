// The few pieces of the WebAssembly binary format that Hearth's hand-encoded modules use (the
// FNV lanes of the manifest hasher, the entry checksums): no toolchain, no build step, and a module
// small enough to read byte by byte next to the spec.

/** Unsigned LEB128, as sizes, counts, indices and memarg offsets are written. */
export function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    out.push(value ? low | 0x80 : low);
  } while (value);
  return out;
}

/** Signed LEB128, as `i32.const` and `i64.const` immediates are written. */
export function sleb(value: number | bigint): number[] {
  let rest = BigInt(value);
  const out: number[] = [];
  for (;;) {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    const signBitClear = (low & 0x40) === 0;
    if ((rest === 0n && signBitClear) || (rest === -1n && !signBitClear)) return [...out, low];
    out.push(low | 0x80);
  }
}

/** A section: its id, its size, its bytes. */
export function section(id: number, bytes: number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}

/** A name (an export's), length first. */
export function name(text: string): number[] {
  return [text.length, ...Buffer.from(text, 'latin1')];
}

// The tsconfig's libs (ES2023, no DOM) do not declare WebAssembly; these are the parts used here.
const wasm = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object) => { exports: unknown } };
}).WebAssembly;

/** Compile a module's bytes (synchronously: the modules are a few hundred bytes). */
export function compileModule(bytes: Uint8Array): object {
  return new wasm.Module(bytes);
}

/** A new instance of a compiled module, with its own memory. */
export function instantiate<Exports>(module: object): Exports {
  return new wasm.Instance(module).exports as Exports;
}
