using Microsoft.Extensions.AI;

namespace Mrl.Adapters.Onnx.Tests;

public sealed class ExecutionProviderTests
{
    private static bool HasNvidiaGpu => File.Exists("/dev/nvidia0") || Environment.GetEnvironmentVariable("MRL_TEST_CUDA") == "1";

    /// <summary>Runs where an NVIDIA GPU and an ONNX Runtime package built with CUDA are present (set MRL_TEST_CUDA=1 on Windows).</summary>
    [SkippableFact]
    public async Task On_a_gpu_cuda_gives_the_cpu_embeddings()
    {
        Skip.IfNot(HasNvidiaGpu, "No NVIDIA GPU here (no /dev/nvidia0 and MRL_TEST_CUDA is not 1).");
        using var cpu = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base);
        using var gpu = OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { ExecutionProvider = OnnxExecutionProvider.Cuda });

        var expected = await cpu.GenerateAsync(Fixtures.Sentences);
        var actual = await gpu.GenerateAsync(Fixtures.Sentences, new EmbeddingGenerationOptions());

        for (var i = 0; i < expected.Count; i++)
        {
            ReferenceEmbeddingTests.AssertClose(expected[i].Vector.Span, actual[i].Vector.Span, $"sentence {i}", 1e-3f);
        }
    }

    [SkippableFact]
    public void Without_a_gpu_package_cuda_is_refused_with_what_to_reference()
    {
        Skip.If(HasNvidiaGpu, "A GPU is present: the refusal is for machines without one.");

        var error = Assert.Throws<InvalidOperationException>(() =>
            OnnxEmbeddingGenerator.FromDirectory(Fixtures.Base, new() { ExecutionProvider = OnnxExecutionProvider.Cuda }));

        Assert.Contains("Microsoft.ML.OnnxRuntime.Gpu", error.Message, StringComparison.Ordinal);
    }
}
