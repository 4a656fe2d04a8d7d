"""What goes wrong in a rehearsal, scenario by scenario: releases, rollbacks, races and the staging gate."""
