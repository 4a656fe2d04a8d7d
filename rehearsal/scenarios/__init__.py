"""What goes wrong in a rehearsal, scenario by scenario: releases, rollbacks, races, the staging gate and the bootstrap."""
