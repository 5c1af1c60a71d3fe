// AudioWorklet: hands the microphone's float samples to the page in blocks of about 20 ms.
class MicCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.buffer = [];
    this.size = Math.round(sampleRate / 50);
  }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) this.buffer.push(channel[i]);
      if (this.buffer.length >= this.size) {
        this.port.postMessage(Float32Array.from(this.buffer));
        this.buffer = [];
      }
    }
    return true;
  }
}
registerProcessor("mic-capture", MicCapture);
