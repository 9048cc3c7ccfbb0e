"""Responsive image packs: one source in; every width x format, a manifest, snippets and a ZIP
out. `analysis` looks at the source, `recommend` turns that into settings a user may override,
`snippets` writes the code to paste."""
