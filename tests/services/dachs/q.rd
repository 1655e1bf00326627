<resource schema="sdc1">
  <!-- The SDC1 B1 truth catalogue (the shared test data, 17,731 sources) as a TAP table and a
       cone search, for the IVOA clients' container tests. -->
  <meta name="title">SDC1 B1 truth catalogue (test service)</meta>
  <meta name="description">Truth catalogue of the SKA Science Data Challenge 1, 560 MHz, around
    the B1 training cutout, served to the container tests of the IVOA clients.</meta>
  <meta name="creationDate">2026-11-25T00:00:00Z</meta>
  <meta name="subject">radio sources</meta>
  <meta name="creator.name">SKA SDC1</meta>
  <meta name="referenceURL">https://doi.org/10.5281/zenodo.5526844</meta>

  <table id="truth" onDisk="True" adql="True" primary="id">
    <meta name="description">SDC1 truth sources</meta>
    <mixin>//scs#q3cindex</mixin>
    <column name="id" type="bigint" required="True" ucd="meta.id;meta.main"
      description="Source id"/>
    <column name="ra_core" type="double precision" unit="deg" ucd="pos.eq.ra;meta.main"
      description="RA of the core (0..360)"/>
    <column name="dec_core" type="double precision" unit="deg" ucd="pos.eq.dec;meta.main"
      description="Dec of the core"/>
    <column name="ra_cent" type="double precision" unit="deg" ucd="pos.eq.ra"
      description="RA of the centroid (0..360)"/>
    <column name="dec_cent" type="double precision" unit="deg" ucd="pos.eq.dec"
      description="Dec of the centroid"/>
    <column name="flux" type="double precision" unit="Jy" ucd="phot.flux.density"
      description="Integrated flux density"/>
    <column name="core_frac" type="double precision" description="Core fraction"/>
    <column name="b_maj" type="double precision" unit="arcsec" description="Major axis"/>
    <column name="b_min" type="double precision" unit="arcsec" description="Minor axis"/>
    <column name="pa" type="double precision" unit="deg" description="Position angle"/>
    <column name="ssize" type="smallint" required="True" description="Size class"/>
    <column name="sclass" type="smallint" required="True"
      description="1 steep-spectrum AGN, 2 flat-spectrum AGN, 3 star-forming galaxy"/>
  </table>

  <!-- The catalogue as the challenge ships it: whitespace separated, RA in -180..180. -->
  <data id="import">
    <sources>truth.cat</sources>
    <reGrammar names="id, ra_core, dec_core, ra_cent, dec_cent, flux, core_frac, b_maj, b_min, pa,
      size, class"/>
    <make table="truth">
      <rowmaker idmaps="id, dec_core, dec_cent, flux, core_frac, b_maj, b_min, pa">
        <map key="ra_core">float(@ra_core) % 360</map>
        <map key="ra_cent">float(@ra_cent) % 360</map>
        <map key="ssize">int(@size)</map>
        <map key="sclass">int(@class)</map>
      </rowmaker>
    </make>
  </data>

  <service id="cone" allowed="form,scs.xml">
    <meta name="shortName">sdc1 truth cone</meta>
    <meta name="testQuery.ra">359.66</meta>
    <meta name="testQuery.dec">-29.67</meta>
    <meta name="testQuery.sr">0.01</meta>
    <scsCore queriedTable="truth">
      <FEED source="//scs#coreDescs"/>
    </scsCore>
  </service>
</resource>
