using System.Globalization;
using System.Linq.Expressions;

namespace Mrl.Adapters.VectorData;

/// <summary>
/// Refuses a filter expression nested deeper than <see cref="MaxDepth"/> before anything else walks it: the MEVD
/// preprocessing, the translation and <see cref="Expression.ToString()"/> all recurse, and a stack overflow ends the
/// process instead of throwing.
/// </summary>
internal sealed class ExpressionDepthGuard : ExpressionVisitor
{
    /// <summary>
    /// The deepest expression accepted; a chain of <c>||</c> or <c>&amp;&amp;</c> nests one level per operator, so this
    /// is also the longest such chain. A list of values is better written with <c>Contains</c>.
    /// </summary>
    public const int MaxDepth = 500;

    private readonly string _parameterName;
    private int _depth;

    private ExpressionDepthGuard(string parameterName) => _parameterName = parameterName;

    /// <exception cref="ArgumentException">The expression is nested deeper than <see cref="MaxDepth"/>.</exception>
    public static void Check(Expression expression, string parameterName) => new ExpressionDepthGuard(parameterName).Visit(expression);

    public override Expression? Visit(Expression? node)
    {
        if (++_depth > MaxDepth)
        {
            throw new ArgumentException(
                string.Create(CultureInfo.InvariantCulture, $"The filter expression is nested more than {MaxDepth} levels deep; write a long list of alternatives as values.Contains(r.Field)."),
                _parameterName);
        }

        var visited = base.Visit(node);
        _depth--;
        return visited;
    }
}
