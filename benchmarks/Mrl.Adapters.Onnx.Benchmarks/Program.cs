using BenchmarkDotNet.Running;
using Mrl.Adapters.Onnx.Benchmarks;

if (args is ["measure", .. var rest])
{
    return EncoderMeasurement.Run(rest);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
