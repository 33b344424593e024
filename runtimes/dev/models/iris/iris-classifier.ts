// The iris model's maths: softmax(W x + b) in float64 with the coefficients fit by fit.py.
import { readFileSync } from 'node:fs';

export interface IrisCoefficients {
  classNames: string[];
  weights: number[][];
  bias: number[];
}

export const COEFFICIENTS_PATH = new URL('./coefficients.json', import.meta.url);

export function loadIrisCoefficients(path: URL = COEFFICIENTS_PATH): IrisCoefficients {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<IrisCoefficients>;
  const { classNames, weights, bias } = parsed;
  const isNumbers = (a: unknown, n: number): a is number[] => Array.isArray(a) && a.length === n && a.every((v) => typeof v === 'number');
  if (!Array.isArray(classNames) || classNames.length !== 3 || !classNames.every((c) => typeof c === 'string')
    || !Array.isArray(weights) || weights.length !== 3 || !weights.every((row) => isNumbers(row, 4)) || !isNumbers(bias, 3)) {
    throw new Error(`${path.pathname}: expected classNames[3], weights[3][4] and bias[3]`);
  }
  return { classNames, weights, bias };
}

export interface IrisPrediction {
  /** rows x 3, row-major. */
  probabilities: Float64Array;
  labels: string[];
}

export class IrisClassifier {
  readonly #c: IrisCoefficients;

  constructor(coefficients: IrisCoefficients = loadIrisCoefficients()) {
    this.#c = coefficients;
  }

  get classNames(): readonly string[] {
    return this.#c.classNames;
  }

  /** features: rows x 4, row-major. */
  predict(features: ArrayLike<number>): IrisPrediction {
    const rows = Math.floor(features.length / 4);
    const probabilities = new Float64Array(rows * 3);
    const labels: string[] = [];
    const logits = [0, 0, 0];
    for (let r = 0; r < rows; r++) {
      for (let k = 0; k < 3; k++) {
        const w = this.#c.weights[k] as number[];
        let z = this.#c.bias[k] as number;
        for (let j = 0; j < 4; j++) z += (w[j] as number) * (features[r * 4 + j] as number);
        logits[k] = z;
      }
      // Subtracting the max keeps exp() finite for any input; the result is unchanged.
      const max = Math.max(...logits);
      let sum = 0;
      for (let k = 0; k < 3; k++) {
        logits[k] = Math.exp((logits[k] as number) - max);
        sum += logits[k] as number;
      }
      let best = 0;
      for (let k = 0; k < 3; k++) {
        const p = (logits[k] as number) / sum;
        probabilities[r * 3 + k] = p;
        if (p > (probabilities[r * 3 + best] as number)) best = k;
      }
      labels.push(this.#c.classNames[best] as string);
    }
    return { probabilities, labels };
  }
}
