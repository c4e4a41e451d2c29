// AudioWorklet: microphone audio at the device rate (often 44.1 or 48 kHz) to 16 kHz PCM16.
//
// Resampling is a windowed-sinc low-pass evaluated at each output instant (band-limited
// interpolation): a Blackman-windowed sinc with its cutoff at 92% of the lower Nyquist
// frequency, 16 zero crossings each side, taken from a table of 512 phases with linear
// interpolation between neighbouring phases. That removes everything above 7.4 kHz before
// decimating (no aliasing into the speech band) and works for any pair of rates, including
// 44.1 kHz, whose ratio to 16 kHz is not an integer.
// Output: Int16Array frames of `frameSamples` samples posted to the main thread (transferred).

const PHASES = 512;
const ZERO_CROSSINGS = 16;

class SincResampler {
  constructor(inRate, outRate) {
    this.step = inRate / outRate; // input samples per output sample
    const cutoff = 0.92 * Math.min(1, outRate / inRate); // as a fraction of the input Nyquist
    this.half = Math.ceil(ZERO_CROSSINGS / cutoff); // taps each side, in input samples
    this.taps = 2 * this.half;
    this.table = new Float32Array((PHASES + 1) * this.taps);
    for (let p = 0; p <= PHASES; p++) {
      const frac = p / PHASES;
      let sum = 0;
      for (let k = 0; k < this.taps; k++) {
        const t = k - this.half + 1 - frac; // distance of tap k from the output instant
        const x = cutoff * t;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const u = t / this.half;
        const window = Math.abs(u) >= 1 ? 0
          : 0.42 + 0.5 * Math.cos(Math.PI * u) + 0.08 * Math.cos(2 * Math.PI * u);
        const value = sinc * window;
        this.table[p * this.taps + k] = value;
        sum += value;
      }
      for (let k = 0; k < this.taps; k++) this.table[p * this.taps + k] /= sum; // unit DC gain
    }
    this.buffer = new Float32Array(this.half + 4096); // starts with `half` samples of silence
    this.length = this.half;
    this.position = this.half; // input index (fractional) of the next output sample
  }

  push(input, emit) {
    if (this.length + input.length > this.buffer.length) {
      const grown = new Float32Array((this.length + input.length) * 2);
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(input, this.length);
    this.length += input.length;
    const { table, taps, half, buffer } = this;
    while (Math.floor(this.position) + half < this.length) {
      const base = Math.floor(this.position);
      const phase = (this.position - base) * PHASES;
      const p0 = Math.floor(phase);
      const mix = phase - p0;
      const row0 = p0 * taps;
      const row1 = row0 + taps;
      const first = base - half + 1;
      let acc = 0;
      for (let k = 0; k < taps; k++) {
        const weight = table[row0 + k] + mix * (table[row1 + k] - table[row0 + k]);
        acc += weight * buffer[first + k];
      }
      emit(acc);
      this.position += this.step;
    }
    const drop = Math.floor(this.position) - half + 1; // samples no output needs any more
    if (drop > 0) {
      this.buffer.copyWithin(0, drop, this.length);
      this.length -= drop;
      this.position -= drop;
    }
  }
}

class Pcm16Resampler extends AudioWorkletProcessor {
  constructor(options) {
    super();
    const { targetRate = 16000, frameSamples = 1600 } = options.processorOptions || {};
    this.resampler = new SincResampler(sampleRate, targetRate);
    this.frame = new Int16Array(frameSamples);
    this.filled = 0;
    this.running = true;
    this.port.onmessage = (event) => {
      if (event.data === "flush") this.flush();
      if (event.data === "stop") { this.flush(); this.running = false; }
    };
    this.emit = (sample) => {
      const clamped = Math.max(-1, Math.min(1, sample));
      this.frame[this.filled++] = clamped < 0 ? clamped * 0x8000 : clamped * 0x7fff;
      if (this.filled === this.frame.length) this.flush();
    };
  }

  flush() {
    if (this.filled === 0) return;
    const out = this.frame.slice(0, this.filled);
    this.port.postMessage(out.buffer, [out.buffer]);
    this.filled = 0;
  }

  process(inputs) {
    const channels = inputs[0];
    if (channels && channels.length > 0) {
      let mono = channels[0];
      if (channels.length > 1) {
        mono = new Float32Array(mono.length);
        for (const channel of channels) {
          for (let i = 0; i < mono.length; i++) mono[i] += channel[i] / channels.length;
        }
      }
      this.resampler.push(mono, this.emit);
    }
    return this.running;
  }
}

registerProcessor("pcm16-resampler", Pcm16Resampler);
