using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace Mrl.Adapters.Onnx;

// The ONNX Runtime session: execution providers, creation, and the checks of what the model returns.
public sealed partial class OnnxEmbeddingGenerator
{
    private void CheckOutputShape(ReadOnlySpan<long> shape, EncoderBatch batch)
    {
        long[] expected = _signature.OutputIsPooled
            ? [batch.Count, _signature.HiddenSize]
            : [batch.Count, batch.SequenceLength, _signature.HiddenSize];
        if (!shape.SequenceEqual(expected))
        {
            throw new OnnxModelSignatureException(string.Create(CultureInfo.InvariantCulture,
                $"The model's output '{_signature.OutputName}' has shape [{string.Join(", ", shape.ToArray())}] for a batch of {batch.Count} texts of {batch.SequenceLength} tokens; expected [{string.Join(", ", expected)}]."));
        }
    }

    private int ProbeHiddenSize(ModelSignature signature)
    {
        using var batch = EncoderBatch.Probe(_tokenizer, signature.TokenTypeIdsName is not null, signature.PositionIdsName is not null);
        using var outputs = _session.Run(_uncancellableRun, _inputNames, Inputs(batch, EmbeddingInputType.Document), _outputNames);
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        return shape.Length > 0 && shape[^1] is > 0 and <= int.MaxValue
            ? (int)shape[^1]
            : throw new OnnxModelSignatureException(
                $"The model's output '{signature.OutputName}' has shape [{string.Join(", ", shape)}] for one text; its last dimension should be the hidden size.");
    }

    private static void AppendExecutionProvider(SessionOptions sessionOptions, OnnxEmbeddingGeneratorOptions options)
    {
        try
        {
            switch (options.ExecutionProvider)
            {
                case OnnxExecutionProvider.Cuda:
                    sessionOptions.AppendExecutionProvider_CUDA(options.DeviceId);
                    break;
                case OnnxExecutionProvider.DirectML:
                    sessionOptions.AppendExecutionProvider_DML(options.DeviceId);
                    break;
            }
        }
        catch (Exception exception) when (exception is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"ONNX Runtime cannot use the {options.ExecutionProvider} execution provider on device {options.DeviceId}: {exception.Message} " +
                $"Reference the ONNX Runtime package built with it ({(options.ExecutionProvider == OnnxExecutionProvider.Cuda ? "Microsoft.ML.OnnxRuntime.Gpu" : "Microsoft.ML.OnnxRuntime.DirectML")}) and install its drivers, or use {nameof(OnnxExecutionProvider.Cpu)}."),
                exception);
        }
    }

    private static InferenceSession CreateSession(string modelPath, OnnxEmbeddingGeneratorOptions options)
    {
        using var sessionOptions = new SessionOptions
        {
            GraphOptimizationLevel = options.GraphOptimizationLevel,
            IntraOpNumThreads = options.IntraOpNumThreads,
            InterOpNumThreads = options.InterOpNumThreads,
        };
        AppendExecutionProvider(sessionOptions, options);
        try
        {
            return new InferenceSession(modelPath, sessionOptions);
        }
        catch (OnnxRuntimeException exception)
        {
            throw new InvalidDataException($"ONNX Runtime cannot load the model '{modelPath}': {exception.Message}", exception);
        }
    }
}
