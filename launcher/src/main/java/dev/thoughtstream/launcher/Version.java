package dev.thoughtstream.launcher;

import picocli.CommandLine.IVersionProvider;

/** The distribution's version, from the jar's manifest (the build's version). */
final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Thoughtstream.class.getPackage().getImplementationVersion();
        return new String[] {"thoughtstream " + (v == null ? "(development build)" : v)};
    }
}
