namespace Mrl.Adapters.Onnx;

/// <summary>
/// Where ONNX Runtime runs the model. Mrl.Adapters.Onnx references the CPU package, <c>Microsoft.ML.OnnxRuntime</c>;
/// for a GPU provider the application references the package with that provider's native library instead
/// (<c>Microsoft.ML.OnnxRuntime.Gpu</c> for CUDA, <c>Microsoft.ML.OnnxRuntime.DirectML</c> for DirectML), which
/// carries the same managed API.
/// </summary>
public enum OnnxExecutionProvider
{
    /// <summary>The CPU, always available.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through CUDA (Linux or Windows, <c>Microsoft.ML.OnnxRuntime.Gpu</c>, CUDA and cuDNN installed).</summary>
    Cuda,

    /// <summary>A DirectX 12 GPU through DirectML (Windows, <c>Microsoft.ML.OnnxRuntime.DirectML</c>).</summary>
    DirectML,
}
