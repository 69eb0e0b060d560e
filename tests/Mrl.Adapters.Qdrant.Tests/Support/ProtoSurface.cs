using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mrl.Adapters.Qdrant.Tests.Support;

/// <summary>
/// The gRPC surface of one Qdrant server version: its methods, message fields and enum values, as listed in
/// <c>Protos/fields-{version}.txt</c> (made by <c>Protos/extract_fields.py</c> from that version's .proto files).
/// <see cref="Problems"/> lists everything a request uses that the version lacks, so that the store never sends a
/// field an older server would ignore or refuse.
/// </summary>
internal sealed class ProtoSurface
{
    /// <summary>The versions whose .proto files the tests carry.</summary>
    public static readonly string[] Versions = ["1.17.0", "1.18.0", "1.19.0"];

    private static readonly Dictionary<string, ProtoSurface> Loaded = new(StringComparer.Ordinal);

    private readonly HashSet<string> _lines;

    private ProtoSurface(string version, HashSet<string> lines)
    {
        Version = version;
        _lines = lines;
    }

    public string Version { get; }

    public static ProtoSurface Of(string version)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(version, out var surface))
            {
                var path = Path.Combine(AppContext.BaseDirectory, "Protos", $"fields-{version}.txt");
                var lines = File.ReadAllLines(path).Where(l => l.Length > 0 && l[0] != '#').ToHashSet(StringComparer.Ordinal);
                Loaded[version] = surface = new ProtoSurface(version, lines);
            }

            return surface;
        }
    }

    public bool HasMethod(string method) => _lines.Contains("rpc " + method);

    /// <summary>Everything <paramref name="call"/> uses that this version lacks: the method, any field set anywhere in the request, any enum value.</summary>
    public IReadOnlyList<string> Problems(RecordedCall call)
    {
        var problems = new List<string>();
        if (!HasMethod(call.Method))
        {
            problems.Add($"rpc {call.Method}");
        }

        Walk(call.Request, problems);
        return problems;
    }

    /// <summary>Asserts that every call is part of this version's API.</summary>
    public void AssertSupports(IEnumerable<RecordedCall> calls)
    {
        foreach (var call in calls)
        {
            var problems = Problems(call);
            Assert.True(problems.Count == 0, $"Qdrant {Version} lacks what {call.Method} sends: {string.Join(", ", problems)}");
        }
    }

    private void Walk(IMessage message, List<string> problems)
    {
        var descriptor = message.Descriptor;
        if (!descriptor.FullName.StartsWith("qdrant.", StringComparison.Ordinal))
        {
            // google.protobuf well-known types (Timestamp) are part of every version.
            return;
        }

        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            var value = field.Accessor.GetValue(message);
            if (!IsSet(field, message, value))
            {
                continue;
            }

            var name = $"field {descriptor.FullName}.{field.Name}";
            if (!_lines.Contains(name))
            {
                problems.Add(name);
            }

            foreach (var item in Items(field, value))
            {
                switch (item)
                {
                    case IMessage nested:
                        Walk(nested, problems);
                        break;
                    case Enum when field.FieldType == FieldType.Enum:
                        var enumValue = field.EnumType.FindValueByNumber(Convert.ToInt32(item, System.Globalization.CultureInfo.InvariantCulture));
                        var line = $"enum {field.EnumType.FullName}.{enumValue?.Name}";
                        if (!_lines.Contains(line))
                        {
                            problems.Add(line);
                        }

                        break;
                }
            }
        }
    }

    private static bool IsSet(FieldDescriptor field, IMessage message, object? value)
    {
        if (field.IsMap || field.IsRepeated)
        {
            return value is System.Collections.ICollection { Count: > 0 };
        }

        if (field.HasPresence)
        {
            return field.Accessor.HasValue(message);
        }

        return value switch
        {
            null => false,
            string s => s.Length > 0,
            ByteString b => !b.IsEmpty,
            bool b => b,
            Enum e => Convert.ToInt32(e, System.Globalization.CultureInfo.InvariantCulture) != 0,
            IConvertible c => Convert.ToDouble(c, System.Globalization.CultureInfo.InvariantCulture) != 0,
            _ => true,
        };
    }

    private static IEnumerable<object?> Items(FieldDescriptor field, object? value)
    {
        if (field.IsMap)
        {
            foreach (var entry in (System.Collections.IDictionary)value!)
            {
                yield return ((System.Collections.DictionaryEntry)entry).Value;
            }
        }
        else if (field.IsRepeated)
        {
            foreach (var item in (System.Collections.IEnumerable)value!)
            {
                yield return item;
            }
        }
        else
        {
            yield return value;
        }
    }
}
