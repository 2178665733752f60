"""The inbox's widgets: thread list (Line API), thread pane, compose box, header, views."""
