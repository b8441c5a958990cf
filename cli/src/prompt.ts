import { createInterface } from 'node:readline';

/**
 * Asks for answers on the terminal, the password without echo. When stdin is not a terminal
 * (a script piping them in), each answer is the next line.
 */
export async function ask(questions: { prompt: string; secret?: boolean }[]): Promise<string[]> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: !!process.stdin.isTTY });
  const lines = rl[Symbol.asyncIterator]();
  const answers: string[] = [];
  try {
    for (const q of questions) {
      process.stderr.write(q.prompt);
      const muted = q.secret && process.stdin.isTTY;
      // readline echoes what it reads through _writeToOutput; silence it for the password.
      const output = rl as unknown as { _writeToOutput: (s: string) => void };
      const original = output._writeToOutput;
      if (muted) output._writeToOutput = () => {};
      const next = await lines.next();
      if (muted) {
        output._writeToOutput = original;
        process.stderr.write('\n');
      }
      if (next.done) throw new Error('no answer');
      answers.push(String(next.value));
    }
    return answers;
  } finally {
    rl.close();
  }
}
