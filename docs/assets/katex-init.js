// Typeset the formulas that pymdownx.arithmatex (generic mode) wraps in .arithmatex elements.
// document$ is Material for MkDocs' page observable: it fires on every page, also with instant
// navigation.
document$.subscribe(() => {
  for (const element of document.querySelectorAll(".arithmatex")) {
    renderMathInElement(element, {
      delimiters: [
        { left: "\\(", right: "\\)", display: false },
        { left: "\\[", right: "\\]", display: true },
      ],
      throwOnError: false,
    });
  }
});
