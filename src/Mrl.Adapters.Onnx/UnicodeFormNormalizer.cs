using System.Text;
using Microsoft.ML.Tokenizers;

namespace Mrl.Adapters.Onnx;

/// <summary>A Unicode normalization form as a Microsoft.ML.Tokenizers normalizer, for a <c>tokenizer.json</c> NFC step, which the library has no type for.</summary>
internal sealed class UnicodeFormNormalizer : Normalizer
{
    public static readonly UnicodeFormNormalizer FormC = new(NormalizationForm.FormC);

    private readonly NormalizationForm _form;

    private UnicodeFormNormalizer(NormalizationForm form)
    {
        _form = form;
    }

    public override string Normalize(string original) => original.Normalize(_form);

    public override string Normalize(ReadOnlySpan<char> original) => original.ToString().Normalize(_form);
}
