using System.Text.RegularExpressions;
using Qdm.Tests.Support;

namespace Qdm.Tests.Docs;

/// <summary>The README sends readers to docs/ and results/; a moved or renamed file must not leave a dead link.</summary>
public class DocumentationLinksTests
{
    [Fact]
    public void Every_relative_link_in_the_readme_and_docs_points_to_a_file_in_the_repository()
    {
        var root = SharedAssets.RepoRoot;
        var pages = Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Prepend(Path.Combine(root, "README.md")).ToList();
        var dead = new List<string>();
        int checkedLinks = 0;
        foreach (var page in pages)
            foreach (Match link in Regex.Matches(File.ReadAllText(page), @"\]\(([^)\s#]+)(#[^)]*)?\)"))
            {
                var target = link.Groups[1].Value;
                if (target.Contains("://") || target.StartsWith("mailto:")) continue;
                checkedLinks++;
                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, target));
                if (!File.Exists(resolved) && !Directory.Exists(resolved)) dead.Add($"{Path.GetRelativePath(root, page)} → {target}");
            }
        Assert.True(checkedLinks >= 5, $"expected the README's links into docs/ and results/, found {checkedLinks}");
        Assert.True(dead.Count == 0, "dead links: " + string.Join("; ", dead));
    }
}
