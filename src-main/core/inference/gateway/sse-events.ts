// Reads a server-sent event stream (https://html.spec.whatwg.org/multipage/server-sent-events.html)
// as llama-server writes one: `data:` lines, events separated by a blank line.

/** The data of each event of `stream`, as the events arrive. */
export async function* sseData(stream: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of stream) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let end: RegExpExecArray | null;
    while ((end = /\r?\n\r?\n/.exec(buffer))) {
      const data = eventData(buffer.slice(0, end.index));
      buffer = buffer.slice(end.index + end[0].length);
      if (data !== null) yield data;
    }
  }
  const last = eventData(buffer + decoder.decode());
  if (last !== null) yield last;
}

/** An event's data lines joined, or null for an event without data (a comment, a ping). */
function eventData(event: string): string | null {
  const lines = event.split(/\r?\n/).filter((line) => line.startsWith('data:')).map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
  return lines.length > 0 ? lines.join('\n') : null;
}
