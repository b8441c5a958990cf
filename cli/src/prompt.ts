import { createInterface } from 'node:readline';

/** Asks questions on the terminal, in as many rounds as needed (a later one may depend on the server's answer). */
export interface Prompter {
  ask(questions: { prompt: string; secret?: boolean }[]): Promise<string[]>;
  close(): void;
}

/**
 * One reader for the whole conversation: when stdin is not a terminal (a script piping the
 * answers in), each answer is the next line, and lines read ahead for a later round are kept.
 * The password is read without echo.
 */
export function openPrompter(): Prompter {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: !!process.stdin.isTTY });
  const lines = rl[Symbol.asyncIterator]();
  return {
    async ask(questions) {
      const answers: string[] = [];
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
    },
    close: () => rl.close(),
  };
}
