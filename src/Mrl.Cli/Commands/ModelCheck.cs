using Mrl.Adapters.Onnx;

namespace Mrl.Cli.Commands;

/// <summary>Tells, on standard error, when a search embeds its query otherwise than the index's documents were embedded.</summary>
internal static class ModelCheck
{
    /// <summary>Compares the model the index records with <paramref name="generator"/>'s; says so once when the index records none.</summary>
    public static void Warn(IndexedModel? indexed, OnnxEmbeddingGenerator generator)
    {
        if (indexed is null)
        {
            Console.Error.WriteLine("note: the index records no model (it was made before `mrl index` recorded one, or by another tool): cannot check that --model is the one that built it.");
            return;
        }

        Warn(indexed.Compare(IndexedModel.Of(generator)));
    }

    public static void Warn(IReadOnlyList<string> warnings)
    {
        foreach (var warning in warnings)
        {
            Console.Error.WriteLine("warning: " + TerminalText.Plain(warning));
        }
    }
}
