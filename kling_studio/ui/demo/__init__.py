"""Demo-only code (screenshots, the layout-audit scene): not part of the product's panels."""
