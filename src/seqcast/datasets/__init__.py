"""Project datasets for the catalog: raw tables read with clear errors, outputs written atomically."""
